/**
 * Acceptance tests of `algwatch-agent check`: the real agent in a lan namespace runs against the real
 * server in a wan namespace, through a real Linux router (nftables masquerade, optionally the kernel's
 * SIP ALG nf_nat_sip). One topology, one server and one check run per describe keep the suite quick.
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '@algwatch/protocol/check-report';
import { requireNetns } from '../testbed/netns-gate.js';
import { TESTBED_ADDRESSES as A, useTopology, type TopologyOptions } from '../testbed/topology.js';
import { requireReport, runAgentCheck, startAlgwatchServer, type CheckRun, type RunningServer } from './algwatch-processes.js';

const netns = requireNetns();

/** checkThrough builds the topology, starts the server and runs one check for the whole describe. */
function checkThrough(options: TopologyOptions, checkArgs: string[] = []): { run: () => CheckRun; report: () => CheckReport } {
  const topology = useTopology(options);
  let server: RunningServer | undefined;
  let run: CheckRun | undefined;
  beforeAll(async () => {
    server = await startAlgwatchServer(topology());
    run = await runAgentCheck(topology(), checkArgs);
  });
  afterAll(async () => {
    await server?.stop();
  });
  const current = () => {
    if (!run) throw new Error('the check did not run (see the beforeAll error above)');
    return run;
  };
  return { run: current, report: () => requireReport(current()) };
}

describe.runIf(netns)('check through a router running the kernel SIP ALG', () => {
  const { run, report } = checkThrough({ sipAlg: true });

  it.each(['udp', 'tcp'] as const)('detects the kernel ALG rewriting Via and Contact on %s', (transport) => {
    const sip = report().sipAlg[transport];
    expect(sip.status).toBe('detected');
    const outbound = sip.rewrites.filter((rewrite) => rewrite.direction === 'outbound');
    for (const field of ['Via', 'Contact']) {
      const rewrite = outbound.find((candidate) => candidate.field === field);
      expect(rewrite, `an outbound ${field} rewrite in ${JSON.stringify(sip.rewrites)}`).toBeDefined();
      expect(rewrite?.sent).toContain(A.agent);
      expect(rewrite?.received).toContain(A.routerWan);
    }
  });

  it('reports TLS clean, since the ALG cannot read an encrypted connection', () => {
    expect(report().sipAlg.tls.status).toBe('clean');
  });

  it('exits 1 with a critical problem', () => {
    expect(run().code).toBe(1);
    expect(report().problems.some((problem) => problem.severity === 'critical')).toBe(true);
  });
});

describe.runIf(netns)('check through a router with plain masquerade and no ALG', () => {
  const { report } = checkThrough({ sipAlg: false });

  it('reports SIP clean on udp, tcp and tls', () => {
    const { udp, tcp, tls } = report().sipAlg;
    expect([udp.status, tcp.status, tls.status]).toEqual(['clean', 'clean', 'clean']);
  });

  it('finds the NAT at the router public address, with the source port preserved', () => {
    expect(report().nat).toMatchObject({ present: true, publicAddress: A.routerWan, portPreserved: true });
  });

  // Linux masquerade keeps the source port when it is free and reuses the same conntrack tuple
  // translation for every destination, so the mapping is endpoint-independent (RFC 4787 §4.1).
  // Filtering is address-and-port-dependent: an inbound packet is let in only when it matches the
  // exact reply tuple of a connection the lan opened (remote address AND port), and the router
  // drops the rest (RFC 4787 §5; RFC 5780 §4.4 tests 2 and 3 both go unanswered).
  it('classifies plain masquerade as endpoint-independent mapping with address-and-port-dependent filtering', () => {
    expect(report().nat).toMatchObject({ mapping: 'endpoint-independent', filtering: 'address-and-port-dependent' });
  });

  it('raises no critical problem', () => {
    expect(report().problems.filter((problem) => problem.severity === 'critical')).toEqual([]);
  });
});

describe.runIf(netns)('check through a router with masquerade random (symmetric NAT)', () => {
  const { report } = checkThrough({ randomPorts: true });

  it('classifies the mapping as address-and-port-dependent and the port as not preserved', () => {
    expect(report().nat).toMatchObject({ present: true, mapping: 'address-and-port-dependent', portPreserved: false });
  });
});

describe.runIf(netns)('check --binding-lifetime through a router whose UDP bindings live 10 s', () => {
  const { report } = checkThrough({ udpTimeoutSeconds: 10 }, ['--binding-lifetime', '--max-lifetime', '30']);

  it('measures the binding lifetime to within a second, in about the lifetime itself', () => {
    const lifetime = report().bindingLifetime;
    expect(lifetime).not.toBeNull();
    expect(lifetime?.udpSeconds).toBeGreaterThanOrEqual(9);
    expect(lifetime?.udpSeconds).toBeLessThanOrEqual(11);
    expect(lifetime?.elapsedMs).toBeLessThanOrEqual((10 + 5) * 1000);
  });
});

describe.runIf(netns)('check with no server behind the router', () => {
  const topology = useTopology({});
  let run: CheckRun | undefined;
  beforeAll(async () => {
    run = await runAgentCheck(topology());
  });

  it('exits 2 with one line on stderr and no report', () => {
    expect(run?.code).toBe(2);
    expect(run?.stdout).toBe('');
    const lines = (run?.stderr ?? '').trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^algwatch-agent check: .*203\.0\.113\.10/);
  });
});
