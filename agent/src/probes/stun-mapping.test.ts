import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricPointSchema } from '@algwatch/protocol/measurements';
import { startStunReflector, type StunReflector } from '../../../server/src/reflector/stun-server.js';
import { runProbe } from './runner.js';
import { stunMappingProbe } from './stun-mapping.js';

let reflector: StunReflector;
let silent: Socket;

beforeAll(async () => {
  reflector = await startStunReflector({ bind: '127.0.0.1', altAddress: '127.0.0.2', port: 0, altPort: 0 });
  silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await reflector.close();
  silent.close();
});

describe('stun-mapping', () => {
  it('sees no NAT on loopback: public equals local, port preserved, OTHER-ADDRESS reported', async () => {
    const run = await runProbe(stunMappingProbe, { host: '127.0.0.1', name: 'lo' }, { port: reflector.sockets[0]!.port });
    expect(run.success).toBe(true);
    expect(run.detail).toMatchObject({
      localAddress: '127.0.0.1',
      publicAddress: '127.0.0.1',
      natPresent: false,
      portPreserved: true,
      otherAddress: reflector.sockets[3],
    });
    expect(run.detail?.publicPort).toBe(run.detail?.localPort);
    expect(run.points).toHaveLength(1);
    expect(run.points[0]).toMatchObject({ measurement: 'stun_mapping', tags: { target: 'lo', result: 'ok' }, fields: { nat_present: false } });
    for (const point of run.points) expect(metricPointSchema.safeParse(point).success).toBe(true);
  });

  it('reports no answer as a failed run with no detail, not an exception', async () => {
    const run = await runProbe(stunMappingProbe, { host: '127.0.0.1' }, { port: silent.address().port, requestTimeoutMs: 300 });
    expect(run).toMatchObject({ success: false, detail: null, points: [] });
    expect(run.error).toBeUndefined();
  });
});
