import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { metricPointSchema } from '@algwatch/protocol/measurements';
import { STUN_METHOD_BINDING, decodeStun, encodeStun } from '@algwatch/protocol/stun';
import { SourceRateLimiter } from '../../../server/src/reflector/rate-limit.js';
import { startStunReflector, type StunReflector } from '../../../server/src/reflector/stun-server.js';
import { bindingLifetimeProbe, decide, plan } from './binding-lifetime.js';
import { runProbe } from './runner.js';

const reflectors: StunReflector[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const reflector of reflectors.splice(0)) await reflector.close();
  for (const socket of sockets.splice(0)) socket.close();
});

async function reflector(limiter?: SourceRateLimiter): Promise<StunReflector> {
  const started = await startStunReflector({ bind: '127.0.0.1', port: 0, altPort: 0, ...(limiter ? { limiter } : {}) });
  reflectors.push(started);
  return started;
}

describe('binding-lifetime', () => {
  it('reports that loopback bindings outlive the maximum, after waiting for the longest interval', async () => {
    const port = (await reflector()).sockets[0]!.port;
    const progress: string[] = [];
    const run = await runProbe(bindingLifetimeProbe, { host: '127.0.0.1' }, { port, maxLifetimeSeconds: 3 }, { progress: (line) => progress.push(line) });
    expect(run.error).toBeUndefined();
    expect(run.success).toBe(true);
    expect(run.detail).toMatchObject({ udpSeconds: null, lowerSeconds: 3, upperSeconds: 3, stepSeconds: 1, unacknowledged: 0 });
    expect(run.detail!.elapsedMs).toBeGreaterThanOrEqual(3000); // it cannot know before the 3 s answer came
    expect(run.points[0]).toMatchObject({ tags: { result: 'ok' }, fields: { outlived_max: true, lower_s: 3, upper_s: 3 } });
    expect(run.points[0]!.fields.udp_lifetime_s).toBeUndefined();
    expect(metricPointSchema.safeParse(run.points[0]).success).toBe(true);
  });

  it('stops at the first delayed answer that does not come back, long before the maximum', async () => {
    // Six acknowledgements plus both copies of the 1 s and 2 s answers fit the budget; every later
    // answer is dropped, exactly as an expired NAT binding would drop it.
    const stun = await reflector(new SourceRateLimiter({ ratePerSecond: 0.0001, burst: 6 + 2 * 2, maxSources: 10 }));
    // Fresh bindings only: the budget trick counts every answer, and warm-up exchanges would spend it.
    const run = await runProbe(bindingLifetimeProbe, { host: '127.0.0.1' }, { port: stun.sockets[0]!.port, maxLifetimeSeconds: 6, warmupSeconds: 0 });
    expect(run.detail).toMatchObject({ udpSeconds: 3, lowerSeconds: 2, upperSeconds: 3 });
    expect(stun.stats().pendingDelayed).toBeGreaterThan(0); // the probe did not wait for the 6 s answer
    expect(run.points[0]?.fields).toMatchObject({ udp_lifetime_s: 3, outlived_max: false });
    expect(run.detail).not.toHaveProperty('establishedSeconds');
    expect(run.points[0]?.fields).not.toHaveProperty('established_lower_s');
    // Fresh only: the advice falls back to the fresh lifetime for both.
    expect(run.detail?.keepalive).toEqual({ firstSeconds: 1, steadySeconds: 1 });
  });

  it('measures warmed (established) bindings beside fresh ones in the same run', async () => {
    const port = (await reflector()).sockets[0]!.port;
    const run = await runProbe(bindingLifetimeProbe, { host: '127.0.0.1' }, { port, maxLifetimeSeconds: 2, warmupSeconds: 1 });
    expect(run.error).toBeUndefined();
    expect(run.detail).toMatchObject({ udpSeconds: null, establishedSeconds: null, establishedLowerSeconds: 2, establishedUpperSeconds: 2, warmupSeconds: 1 });
    expect(run.detail).not.toHaveProperty('keepalive');
    expect(metricPointSchema.parse(run.points[0]).fields).toMatchObject({ outlived_max: true, established_outlived_max: true, established_lower_s: 2 });
  });

  it('refuses a STUN server that ignores ALGWATCH-RESPONSE-DELAY instead of reporting lifetime 0', async () => {
    const plain = createSocket('udp4');
    sockets.push(plain);
    await new Promise<void>((resolve) => plain.bind(0, '127.0.0.1', resolve));
    plain.on('message', (packet, rinfo) => {
      const decoded = decodeStun(packet);
      if (!decoded.ok) return;
      const answer = encodeStun(
        { method: STUN_METHOD_BINDING, class: 'success', transactionId: decoded.message.transactionId },
        { xorMappedAddress: { address: rinfo.address, port: rinfo.port } },
      );
      plain.send(answer, rinfo.port, rinfo.address);
    });
    const run = await runProbe(bindingLifetimeProbe, { host: '127.0.0.1' }, { port: plain.address().port, maxLifetimeSeconds: 30 });
    expect(run.success).toBe(false);
    expect(run.error).toBe(`the STUN server at 127.0.0.1:${plain.address().port} ignores ALGWATCH-RESPONSE-DELAY: binding lifetime needs an algwatch reflector`);
  });

  it('widens the step when the intervals would need more than 500 sockets, and says so', () => {
    expect(plan({ maxLifetimeSeconds: 5, resolutionSeconds: 1 }).intervals).toEqual([1, 2, 3, 4, 5]);
    expect(plan({ maxLifetimeSeconds: 5, resolutionSeconds: 2 }).intervals).toEqual([2, 4, 5]);
    const wide = plan({ maxLifetimeSeconds: 3600, resolutionSeconds: 1 });
    expect(wide.stepSeconds).toBe(8);
    expect(wide.intervals).toHaveLength(450);
    expect(wide.note).toBe('step widened from 1 s to 8 s to keep at most 500 sockets open');
  });

  it('decides on the first expired interval, skipping unacknowledged ones and waiting on pending ones', () => {
    const states = (...list: Array<'pending' | 'alive' | 'expired' | 'unknown'>) => new Map(list.map((state, i) => [i + 1, state]));
    const intervals = [1, 2, 3, 4];
    expect(decide(intervals, states('alive', 'unknown', 'alive', 'expired'))).toEqual({ final: true, lower: 3, upper: 4 });
    expect(decide(intervals, states('alive', 'pending', 'expired', 'pending'))).toEqual({ final: false, lower: 1, upper: null });
    expect(decide(intervals, states('alive', 'alive', 'alive', 'alive'))).toEqual({ final: true, lower: 4, upper: null });
    expect(decide(intervals, states('expired', 'alive', 'alive', 'alive'))).toEqual({ final: true, lower: 0, upper: 1 });
  });
});
