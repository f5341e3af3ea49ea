/**
 * Acceptance tests of `algwatch-agent check --rtp`: the real agent in the lan namespace makes a test
 * call to the real server's reflector in the wan namespace through a real Linux router: routed with
 * no NAT, plain masquerade, masquerade with the kernel SIP ALG (nf_nat_sip), a firewall dropping
 * inbound media, and random loss made with nft numgen (this kernel has no netem).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport, RtpReport } from '@algwatch/protocol/check-report';
import { requireNetns } from '../testbed/netns-gate.js';
import { ROUTER_TABLE } from '../testbed/router-ruleset.js';
import { TESTBED_ADDRESSES as A, TESTBED_INTERFACES as I, useTopology, type Topology, type TopologyOptions } from '../testbed/topology.js';
import { requireReport, runAgentCheck, startAlgwatchServer, type RunningServer } from './algwatch-processes.js';

const netns = requireNetns();
/** Media ports on both ends: the agent's RTP port (16384..32766) and the reflector's session ports (ephemeral). */
const MEDIA_ONLY = 'udp sport 16384-65535 udp dport 16384-65535';

/** routerExtra replaces the router's extra forward rules (a chain run before the ruleset's own: its drops are final, its accepts are not). */
async function routerExtra(topology: Topology, rules: string[]): Promise<void> {
  const script = [
    `add chain ip ${ROUTER_TABLE} extra { type filter hook forward priority -10; policy accept; }`,
    `flush chain ip ${ROUTER_TABLE} extra`,
    ...rules.map((rule) => `add rule ip ${ROUTER_TABLE} extra ${rule}`),
    '',
  ].join('\n');
  const result = await topology.exec('router', 'nft', ['-f', '-'], { input: script });
  if (result.code !== 0) throw new Error(`nft failed: ${result.stderr}`);
}

/** rtpCheckThrough builds the topology, lets `prepare` change it, starts the server, and runs `check --rtp` once. */
function rtpCheckThrough(options: TopologyOptions, prepare: (topology: Topology) => Promise<void> = async () => {}): () => CheckReport & { rtp: RtpReport } {
  const topology = useTopology(options);
  let server: RunningServer | undefined;
  let report: CheckReport | undefined;
  beforeAll(async () => {
    await prepare(topology());
    server = await startAlgwatchServer(topology());
    report = requireReport(await runAgentCheck(topology(), ['--rtp']));
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!report?.rtp) throw new Error(`check --rtp printed no rtp report: ${JSON.stringify(report)}`);
    return report as CheckReport & { rtp: RtpReport };
  };
}

describe.runIf(netns)('check --rtp through a router that routes without NAT', () => {
  const report = rtpCheckThrough({}, async (topology) => {
    await topology.exec('router', 'nft', ['flush', 'chain', 'ip', ROUTER_TABLE, 'post']);
    await topology.exec('wan', 'ip', ['route', 'add', '198.51.100.0/24', 'via', A.routerWan]);
  });

  it('finds two-way audio over the SDP path, with every packet delivered and a G.711 MOS', () => {
    const { rtp } = report();
    expect(rtp).toMatchObject({ verdict: 'two-way', inboundPath: 'sdp' });
    expect(rtp.sdpReceived).toBe(rtp.sdpSent);
    expect(rtp.sdpSent.startsWith(`${A.agent}:`)).toBe(true);
    expect(rtp.outbound).toMatchObject({ sent: 250, received: 250, lossPct: 0 });
    expect(rtp.inbound.lossPct).toBe(0);
    expect(rtp.mos).toBeGreaterThan(4.2);
  });

  it('finds the pinhole closed to the reflector\'s other address and port (the firewall admits only the reply tuple)', () => {
    expect(report().rtp.pinholeOpenToOthers).toBe(false);
    expect(report().rtp.pinholeOpenFrom).toBeUndefined();
    expect(report().problems.filter((problem) => problem.code.startsWith('rtp_'))).toEqual([]);
  });
});

describe.runIf(netns)('check --rtp through a router that routes without NAT and lets all inbound UDP in', () => {
  const report = rtpCheckThrough({}, async (topology) => {
    await topology.exec('router', 'nft', ['flush', 'chain', 'ip', ROUTER_TABLE, 'post']);
    await topology.exec('wan', 'ip', ['route', 'add', '198.51.100.0/24', 'via', A.routerWan]);
    // Into the ruleset's own forward chain: an accept in another base chain would not stop its drop policy.
    await topology.exec('router', 'nft', ['insert', 'rule', 'ip', ROUTER_TABLE, 'forward', 'iifname', I.routerWan, 'meta', 'l4proto', 'udp', 'accept']);
  });

  it('finds the pinhole open to another address and another port, and raises it', () => {
    const { rtp, problems } = report();
    expect(rtp).toMatchObject({ verdict: 'two-way', pinholeOpenToOthers: true, pinholeOpenFrom: ['other-address', 'other-port'] });
    expect(problems.find((problem) => problem.code === 'rtp_pinhole_open')?.severity).toBe('warning');
  });
});

describe.runIf(netns)('check --rtp through plain masquerade without an ALG', () => {
  const report = rtpCheckThrough({});

  it('finds media sent to the SDP address never arrives, and only symmetric RTP gets back', () => {
    const { rtp } = report();
    expect(rtp).toMatchObject({ verdict: 'one-way-outbound-only', inboundPath: 'symmetric-only' });
    expect(rtp.sdpReceived?.startsWith(`${A.agent}:`)).toBe(true);
    expect(rtp.mediaSource?.startsWith(`${A.routerWan}:`)).toBe(true);
    expect(rtp.outbound.received).toBe(250);
    expect(rtp.inbound.received).toBeGreaterThan(200);
    expect(rtp.pinholeOpenToOthers).toBe(false);
  });

  it('names the cause: the SDP carries the private address, and calls work only with a far end that latches', () => {
    const problem = report().problems.find((candidate) => candidate.code === 'rtp_one_way_audio');
    expect(problem?.severity).toBe('warning');
    expect(problem?.summary).toContain('latches');
    expect(problem?.summary).toContain(`the SDP carries ${A.agent} but media comes from ${A.routerWan}`);
  });
});

describe.runIf(netns)('check --rtp through masquerade with the kernel SIP ALG', () => {
  const report = rtpCheckThrough({ sipAlg: true });

  it('sees the ALG rewrite the SDP media address to the router\'s public address', () => {
    const { rtp } = report();
    expect(rtp.sdpSent.startsWith(`${A.agent}:`)).toBe(true);
    expect(rtp.sdpReceived?.startsWith(`${A.routerWan}:`)).toBe(true);
  });

  // What Linux 6.x does (observed here): nf_nat_sip keeps the RTP port when it is free, so the SDP
  // names exactly the public address:port the agent's RTP leaves from; media sent to the SDP address
  // rides the same conntrack entry as symmetric RTP, and both paths are one.
  it('gets two-way audio: the rewritten SDP address is where the agent\'s RTP really comes from', () => {
    const { rtp } = report();
    expect(rtp).toMatchObject({ verdict: 'two-way', inboundPath: 'sdp' });
    expect(rtp.mediaSource).toBe(rtp.sdpReceived);
    expect(rtp.outbound.received).toBe(250);
    expect(rtp.inbound.lossPct).toBe(0);
  });

  // What nf_conntrack_sip does (conntrack -L expect, observed here): for the SDP it saw in the
  // INVITE it expects media from the signalling peer's address with ANY source port
  // (src=203.0.113.10 sport=0/mask 0 -> 203.0.113.1:<rtp port>), and the expectation stays for its
  // full timeout, the call's own media having created an ordinary conntrack entry. So a packet from
  // another port of the far end's address is let in (RELATED); one from another address is not.
  it('finds the pinhole open to another port of the far end\'s address, not to another address', () => {
    const { rtp, problems } = report();
    expect(rtp.pinholeOpenToOthers).toBe(true);
    expect(rtp.pinholeOpenFrom).toEqual(['other-port']);
    const problem = problems.find((candidate) => candidate.code === 'rtp_pinhole_open');
    expect(problem?.summary).toContain("another port of the far end's address");
  });
});

describe.runIf(netns)('check --rtp through a firewall that drops inbound UDP other than SIP', () => {
  const report = rtpCheckThrough({}, (topology) => routerExtra(topology, [`iifname "${I.routerWan}" udp sport != 5060 udp sport != 3478 drop`]));

  it('finds one-way audio, outbound only: the reflector hears the agent, nothing comes back on any path', () => {
    const { rtp } = report();
    expect(rtp).toMatchObject({ verdict: 'one-way-outbound-only', inboundPath: 'none' });
    expect(rtp.outbound.received).toBe(250);
    expect(rtp.inbound.received).toBe(0);
    expect(rtp.mos).toBeNull();
    const problem = report().problems.find((candidate) => candidate.code === 'rtp_one_way_audio');
    expect(problem?.severity).toBe('critical');
    expect(problem?.summary).toContain("only this site's audio reaches the far end");
  });
});

describe.runIf(netns)('check --rtp with random loss on the router (nft numgen)', () => {
  const topology = useTopology({});
  let server: RunningServer | undefined;
  const reports = new Map<number, RtpReport>();
  beforeAll(async () => {
    server = await startAlgwatchServer(topology());
    for (const lossPct of [0, 5, 20]) {
      await routerExtra(topology(), lossPct === 0 ? [] : [`${MEDIA_ONLY} numgen random mod 100 < ${lossPct} drop`]);
      const report = requireReport(await runAgentCheck(topology(), ['--rtp', '--rtp-seconds', '10'], 90_000));
      if (!report.rtp) throw new Error('no rtp report');
      reports.set(lossPct, report.rtp);
    }
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
  });

  it.each([5, 20])('measures %i percent loss within 5 points in both directions over 500 packets', (lossPct) => {
    const rtp = reports.get(lossPct)!;
    expect(rtp.outbound.sent).toBe(500);
    expect(Math.abs(rtp.outbound.lossPct - lossPct)).toBeLessThanOrEqual(5);
    expect(Math.abs(rtp.inbound.lossPct - lossPct)).toBeLessThanOrEqual(5);
  });

  it('rates the call lower as loss grows, and flags 20 % as poor', () => {
    const mos = [0, 5, 20].map((lossPct) => reports.get(lossPct)!.mos!);
    expect(mos[0]).toBeGreaterThan(mos[1]!);
    expect(mos[1]).toBeGreaterThan(mos[2]!);
    expect(mos[2]).toBeLessThan(3.6);
  });
});
