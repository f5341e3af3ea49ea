import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricPointSchema } from '@algwatch/protocol/measurements';
import { startStunReflector, type StunReflector } from '../../../server/src/reflector/stun-server.js';
import { natBehaviorProbe } from './nat-behavior.js';
import { runProbe } from './runner.js';

let withAlt: StunReflector;
let withoutAlt: StunReflector;

beforeAll(async () => {
  withAlt = await startStunReflector({ bind: '127.0.0.1', altAddress: '127.0.0.2', port: 0, altPort: 0 });
  withoutAlt = await startStunReflector({ bind: '127.0.0.1', port: 0, altPort: 0 });
});

afterAll(async () => {
  await withAlt.close();
  await withoutAlt.close();
});

describe('nat-behavior', () => {
  it('classifies loopback as no NAT with endpoint-independent mapping and filtering', async () => {
    const run = await runProbe(natBehaviorProbe, { host: '127.0.0.1' }, { port: withAlt.sockets[0]!.port });
    expect(run.success).toBe(true);
    expect(run.detail).toMatchObject({
      mapping: 'endpoint-independent',
      filtering: 'endpoint-independent',
      natPresent: false,
      publicAddress: '127.0.0.1',
    });
    expect(run.detail?.reason).toBeUndefined();
    expect(run.points[0]).toMatchObject({
      tags: { result: 'ok', mapping: 'endpoint-independent', filtering: 'endpoint-independent' },
      fields: { nat_present: false, mapping_code: 1, filtering_code: 1 },
    });
    expect(metricPointSchema.safeParse(run.points[0]).success).toBe(true);
  });

  it('says both behaviours are unknown, and why, when the server has no second address', async () => {
    const run = await runProbe(natBehaviorProbe, { host: '127.0.0.1' }, { port: withoutAlt.sockets[0]!.port });
    expect(run.success).toBe(false);
    expect(run.detail).toMatchObject({ mapping: 'unknown', filtering: 'unknown', natPresent: false });
    expect(run.detail?.reason).toContain('no OTHER-ADDRESS');
    expect(run.points[0]?.tags.result).toBe('unsupported');
  });
});
