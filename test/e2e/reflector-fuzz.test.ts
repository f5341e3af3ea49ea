/**
 * The reflector fuzz test: the real `algwatch-server` process takes 110,000 random and
 * mutated SIP and STUN datagrams on its SIP and both STUN ports, plus a few hundred hostile TCP/TLS
 * connections, and afterwards must still be running, answer valid probes on every transport, have
 * answered nothing malformed, and not have grown in memory.
 *
 * The seed is fixed so a failure can be replayed; set ALGWATCH_FUZZ_SEED=<n> to fuzz elsewhere.
 * Needs the build (`npx tsc -b`; `npm test` does it first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIP_ECHO_HEADER, decodeSipEcho } from '@algwatch/protocol/sip-echo';
import { sipHeaderValue } from '@algwatch/protocol/sip';
import { startReflectorServer, type ReflectorServer } from '../fuzz/server-process.js';
import { runUdpFuzz, type UdpFuzzResult } from '../fuzz/udp-fuzz.js';
import { runStreamFuzz, STREAM_KINDS, type StreamFuzzResult } from '../fuzz/stream-fuzz.js';
import { healthz, sipOverStream, sipOverUdp, sipProbeRequest, stunBindingRequest } from '../fuzz/valid-probes.js';

const SEED = Number(process.env.ALGWATCH_FUZZ_SEED ?? 20261125);
const DATAGRAMS = 110_000;
const WARM_UP_DATAGRAMS = 10_000;
const SERVER = '127.0.0.1';
/** Fuzz traffic comes from 127.0.1.1-24 (udp-fuzz.ts explains why several sources). */
const FUZZ_SOURCES = Array.from({ length: 24 }, (_, i) => `127.0.1.${i + 1}`);
/**
 * The after-fuzz probes come from an address the fuzzing never used: its rate-limit bucket is
 * full, so an unanswered probe means a broken server, not a budget the garbage spent.
 */
const PROBE_SOURCE = '127.0.0.2';
const MAX_RSS_GROWTH_KIB = 40 * 1024;

describe('the reflector under fuzzing (real algwatch-server process)', () => {
  let server: ReflectorServer;
  let udp: UdpFuzzResult | undefined;
  let streams: StreamFuzzResult | undefined;
  let fdsBefore = 0;
  let rssWarmKiB = NaN;
  let rssEndKiB = NaN;
  const rssTrace: string[] = [];

  beforeAll(async () => {
    server = await startReflectorServer();
    fdsBefore = server.fdCount();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it(`survives ${DATAGRAMS.toLocaleString('en')} random and mutated SIP and STUN datagrams and answers none that is malformed`, async () => {
    let releaseHeld = () => {};
    const held = new Promise<void>((resolve) => (releaseHeld = resolve));
    const streamsDone = runStreamFuzz({ seed: SEED, serverHost: SERVER, tcpPort: server.ports.sipTcp, tlsPort: server.ports.sipTls, sources: FUZZ_SOURCES, releaseHeld: held });
    try {
      udp = await runUdpFuzz({
        seed: SEED,
        datagrams: DATAGRAMS,
        serverHost: SERVER,
        ports: { sip: server.ports.sipUdp, stun: server.ports.stun, stunAlt: server.ports.stunAlt },
        sources: FUZZ_SOURCES,
        serverAlive: () => server.exit() === null,
        checkpoints: [
          { afterDatagrams: WARM_UP_DATAGRAMS, run: () => (rssWarmKiB = server.rssKiB()) },
          ...[30_000, 60_000, 90_000].map((afterDatagrams) => ({ afterDatagrams, run: () => rssTrace.push(`${afterDatagrams}: ${server.rssKiB()} KiB`) })),
        ],
      });
    } finally {
      releaseHeld();
    }
    streams = await streamsDone;
    rssEndKiB = server.exit() === null ? server.rssKiB() : NaN;
    console.info(
      `reflector fuzz (seed ${SEED}): ${udp.sent} datagrams sent in ${(udp.durationMs / 1000).toFixed(1)} s ` +
        `(random ${udp.byFamily.random}, STUN-shaped ${udp.byFamily.stun}, SIP-shaped ${udp.byFamily.sip}; ` +
        `to SIP ${udp.byTarget.sip}, STUN ${udp.byTarget.stun}, STUN-alt ${udp.byTarget.stunAlt}), ` +
        `answerable STUN ${udp.answerable.stun} / SIP ${udp.answerable.sip}, replies STUN ${udp.replies.stun} / SIP ${udp.replies.sip}, ` +
        `kernel drops at server ${udp.serverDrops}, at fuzzer ${udp.clientDrops}; ` +
        `${streams.connections} TCP/TLS connections, ${streams.bytesSent} bytes; ` +
        `RSS after warm-up ${(rssWarmKiB / 1024).toFixed(1)} MiB, at end ${(rssEndKiB / 1024).toFixed(1)} MiB; server CPU ${server.cpuSeconds().toFixed(1)} s`,
    );

    expect(server.exit(), `server ended: ${server.stderr()}`).toBeNull();
    expect(udp.stoppedEarly).toBeNull();
    expect(udp.sendErrors).toBe(0);
    expect(udp.sent).toBeGreaterThanOrEqual(100_000);
    expect(udp.violations).toEqual([]);
    expect(udp.keyCollisions).toBe(0);
    // A reply lost in the fuzzer's own socket buffer would escape the oracle.
    expect(udp.clientDrops).toBe(0);
    // The oracle judged real replies, not silence: valid mutants were answered in numbers.
    expect(udp.replies.stun).toBeGreaterThan(1_000);
    expect(udp.replies.sip).toBeGreaterThan(1_000);
  }, 180_000);

  it('answers no junk on TCP or TLS, drops connections it cannot frame, and lets go of every connection', async () => {
    expect(streams, 'the stream fuzz did not run').toBeDefined();
    const result = streams!;
    console.info(`stream fuzz: ${JSON.stringify(result.byKind)}`);
    expect(result.violations).toEqual([]);
    for (const kind of ['tcp-oversized-headers', 'tcp-bad-content-length', 'tls-raw-junk', 'tls-stalled-handshake'] as const) {
      expect(result.byKind[kind], kind).toEqual({ opened: STREAM_KINDS[kind], closedByServer: STREAM_KINDS[kind] });
    }
    // Every fuzz connection is closed on our side now: the server must have released its sockets.
    let fds = server.fdCount();
    for (let waited = 0; fds > fdsBefore + 2 && waited < 5_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      fds = server.fdCount();
    }
    console.info(`server file descriptors: ${fdsBefore} before the fuzz, ${fds} after`);
    expect(fds).toBeLessThanOrEqual(fdsBefore + 2);
  });

  it('still runs and answers valid STUN and SIP probes over UDP, TCP and TLS afterwards', async () => {
    expect(server.exit(), `server ended: ${server.stderr()}`).toBeNull();
    const health = await healthz(SERVER, server.ports.http);
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });

    for (const port of [server.ports.stun, server.ports.stunAlt]) {
      const { answer, localPort } = await stunBindingRequest(SERVER, port, PROBE_SOURCE);
      expect(answer.class).toBe('success');
      expect(answer.xorMappedAddress).toEqual({ address: PROBE_SOURCE, port: localPort });
    }

    const probes = [
      { transport: 'udp', method: 'OPTIONS', port: server.ports.sipUdp },
      { transport: 'udp', method: 'INVITE', port: server.ports.sipUdp },
      { transport: 'tcp', method: 'INVITE', port: server.ports.sipTcp },
      { transport: 'tls', method: 'OPTIONS', port: server.ports.sipTls },
    ] as const;
    for (const [n, probe] of probes.entries()) {
      const callId = `after-fuzz-${n}-${SEED}`;
      const request = sipProbeRequest(probe.method, probe.transport === 'udp' ? 'UDP' : probe.transport === 'tcp' ? 'TCP' : 'TLS', SERVER, `${PROBE_SOURCE}:5062`, callId);
      const reply =
        probe.transport === 'udp'
          ? await sipOverUdp(SERVER, probe.port, PROBE_SOURCE, request, callId)
          : await sipOverStream(probe.transport, SERVER, probe.port, PROBE_SOURCE, request);
      expect(reply.startLine, `${probe.method} over ${probe.transport}`).toBe('SIP/2.0 200 OK');
      expect(sipHeaderValue(reply, 'Call-ID')).toBe(callId);
      const echo = decodeSipEcho(sipHeaderValue(reply, SIP_ECHO_HEADER) ?? '');
      expect(echo, `${probe.method} over ${probe.transport} carries a valid echo`).not.toBeNull();
      expect(echo!.transport).toBe(probe.transport);
      expect(echo!.source.address).toBe(PROBE_SOURCE);
      expect(echo!.request).toBe(request.toString('latin1'));
    }
  });

  it('keeps its memory flat through the fuzzing', () => {
    console.info(
      `server RSS: ${rssWarmKiB} KiB after ${WARM_UP_DATAGRAMS} datagrams (warm-up), ${rssTrace.join(', ')}, ` +
        `${rssEndKiB} KiB at the end (growth ${rssEndKiB - rssWarmKiB} KiB)`,
    );
    expect(Number.isFinite(rssWarmKiB) && Number.isFinite(rssEndKiB)).toBe(true);
    expect(rssEndKiB - rssWarmKiB).toBeLessThan(MAX_RSS_GROWTH_KIB);
  });

  it('logs no handler failure and writes nothing to stderr', async () => {
    const events = new Map<string, number>();
    let errors = 0;
    for (const line of (await server.log()).split('\n')) {
      if (!line) continue;
      const event = JSON.parse(line) as { msg?: string; level?: number };
      events.set(event.msg ?? '?', (events.get(event.msg ?? '?') ?? 0) + 1);
      if ((event.level ?? 0) >= 50) errors++;
    }
    console.info(`server log events: ${JSON.stringify(Object.fromEntries(events))}`);
    expect(events.get('stun_handler_failed') ?? 0).toBe(0);
    expect(errors).toBe(0);
    expect(server.stderr()).toBe('');
  });
});
