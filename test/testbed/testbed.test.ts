/**
 * Self-tests of the namespace testbed: they prove the router is a real Linux NAT with a real kernel
 * SIP ALG, using only two tiny peer scripts (no algwatch code), so a failing end-to-end test can be
 * blamed on algwatch and not on the testbed.
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../helpers/process.js';
import { registerNamespace, sweepStaleNamespacesSync } from './namespace-cleanup.js';
import { netnsGateDecision, requireNetns } from './netns-gate.js';
import { sendProbe, sipOptions, startEchoPeer, type EchoReport } from './peers.js';
import { createTopology, TESTBED_ADDRESSES as A, useTopology } from './topology.js';
import { routerRuleset } from './router-ruleset.js';

const SIP_PORT = 5060;
const PLAIN_PORT = 7000; // not 5060: keeps the SIP helper (and its own 3600 s timeout) out of the way

describe('requireNetns', () => {
  it('fails instead of skipping when ALGWATCH_REQUIRE_NETNS=1 and namespaces are unavailable', () => {
    const decision = netnsGateDecision({ isRoot: false, missing: 'not running as root' }, { ALGWATCH_REQUIRE_NETNS: '1' });
    expect(decision).toEqual({ run: false, fail: true, reason: 'not running as root' });
  });

  it('skips without failing for a developer who is not root', () => {
    expect(netnsGateDecision({ isRoot: false, missing: 'not running as root' }, {})).toMatchObject({ run: false, fail: false });
  });

  it('runs when root and the tools are there', () => {
    expect(netnsGateDecision({ isRoot: true, missing: null }, { ALGWATCH_REQUIRE_NETNS: '1' })).toEqual({ run: true });
  });
});

describe('routerRuleset', () => {
  it('attaches the sip helper only when the ALG is wanted, and randomises ports only when asked', () => {
    const plain = routerRuleset({ lanInterface: 'lan0', wanInterface: 'wan0', sipAlg: false, randomPorts: false });
    const alg = routerRuleset({ lanInterface: 'lan0', wanInterface: 'wan0', sipAlg: true, randomPorts: true });
    expect(plain).not.toContain('ct helper');
    expect(plain).toMatch(/oifname "wan0" masquerade\n/);
    expect(alg).toContain('udp dport 5060 ct state new ct helper set "sip-udp"');
    expect(alg).toContain('tcp dport 5060 ct state new ct helper set "sip-tcp"');
    expect(alg).toContain('masquerade random');
  });
});

const netns = requireNetns();

async function namespaceNames(): Promise<string[]> {
  const listing = await runCommand('ip', ['netns', 'list']);
  return listing.stdout.split('\n').map((line) => line.split(' ')[0] ?? '').filter((name) => name !== '');
}

describe.runIf(netns)('the testbed lifecycle', () => {
  it('deletes its namespaces and stops the processes inside them on destroy', async () => {
    const topology = await createTopology({ sipAlg: true });
    const peer = await startEchoPeer(topology, 'wan', [{ address: A.server, port: PLAIN_PORT }]);
    expect(await namespaceNames()).toEqual(expect.arrayContaining(Object.values(topology.namespaces)));
    await topology.destroy();
    expect((await peer.exited).signal).not.toBeNull();
    expect((await namespaceNames()).filter((name) => Object.values(topology.namespaces).includes(name))).toEqual([]);
  });

  it('sweeps namespaces left by a test process that no longer runs', async () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid; // a pid that has just exited
    const stale = `aw-${gone}-1-lan`;
    registerNamespace(stale); // deleted at exit even if this test fails half-way
    expect((await runCommand('ip', ['netns', 'add', stale])).code).toBe(0);
    expect(sweepStaleNamespacesSync()).toContain(stale);
    expect(await namespaceNames()).not.toContain(stale);
  });
});

/** The echo peer's view of a request from the lan: where it came from and the exact bytes. */
async function sendSip(topology: ReturnType<ReturnType<typeof useTopology>>, transport: 'udp' | 'tcp'): Promise<{ localPort: number; echo: EchoReport }> {
  const result = await sendProbe(topology, {
    transport,
    from: 'lan',
    bind: A.agent,
    destinations: [{ address: A.server, port: SIP_PORT }],
    payload: sipOptions(A.agent, A.server, transport === 'udp' ? 'UDP' : 'TCP'),
    waitMs: 3_000,
  });
  const [localPort] = result.localPorts;
  const [echo] = result.replies;
  if (localPort === undefined || echo === undefined) throw new Error(`no echo over ${transport} from ${A.server}:${SIP_PORT}`);
  return { localPort, echo };
}

describe.runIf(netns)('the testbed router with the kernel SIP ALG', () => {
  const topology = useTopology({ sipAlg: true });
  beforeAll(async () => {
    await startEchoPeer(topology(), 'wan', [{ address: A.server, port: SIP_PORT }]);
  });

  it.each(['udp', 'tcp'] as const)('rewrites Via and Contact over %s to the router public address', async (transport) => {
    const { localPort, echo } = await sendSip(topology(), transport);
    expect(echo.from).toEqual({ address: A.routerWan, port: localPort });
    expect(echo.payload).toContain(`Via: SIP/2.0/${transport.toUpperCase()} ${A.routerWan}:${localPort};`);
    expect(echo.payload).toContain(`Contact: <sip:agent@${A.routerWan}:${localPort}>`);
    expect(echo.payload).not.toContain(`${A.agent}:${localPort}`);
  });
});

describe.runIf(netns)('the testbed router with plain masquerade', () => {
  const topology = useTopology({ sipAlg: false });
  beforeAll(async () => {
    await startEchoPeer(topology(), 'wan', [
      { address: A.server, port: SIP_PORT },
      { address: A.server, port: PLAIN_PORT },
      { address: A.serverAlt, port: PLAIN_PORT + 1 },
    ]);
    await startEchoPeer(topology(), 'lan', [{ address: A.agent, port: PLAIN_PORT }]);
  });

  it.each(['udp', 'tcp'] as const)('passes SIP over %s through unchanged', async (transport) => {
    const { localPort, echo } = await sendSip(topology(), transport);
    expect(echo.from.address).toBe(A.routerWan);
    expect(echo.payload).toBe(sipOptions(A.agent, A.server, transport === 'udp' ? 'UDP' : 'TCP').replaceAll('{localPort}', String(localPort)));
  });

  it('keeps the source port and uses one public port for every destination (endpoint-independent mapping)', async () => {
    const result = await sendProbe(topology(), {
      transport: 'udp',
      from: 'lan',
      bind: A.agent,
      destinations: [{ address: A.server, port: PLAIN_PORT }, { address: A.serverAlt, port: PLAIN_PORT + 1 }],
      payload: 'mapping',
      waitMs: 3_000,
    });
    expect(result.replies).toHaveLength(2);
    expect(result.replies.map((reply) => reply.from)).toEqual([
      { address: A.routerWan, port: result.localPorts[0] },
      { address: A.routerWan, port: result.localPorts[0] },
    ]);
  });

  it('does not let the wan reach the lan except through the NAT, even with a route to it', async () => {
    // The wan normally has no route to the lan at all; add one (as a host on the ISP's segment
    // could) so the router's forward policy, not the missing route, is what is tested.
    const route = ['route', 'add', '198.51.100.0/24', 'via', A.routerWan];
    expect((await topology().exec('wan', 'ip', route)).code).toBe(0);
    try {
      const result = await sendProbe(topology(), {
        transport: 'udp',
        from: 'wan',
        bind: A.server,
        destinations: [{ address: A.agent, port: PLAIN_PORT }, { address: A.routerWan, port: PLAIN_PORT }],
        payload: 'unsolicited',
        waitMs: 1_000,
      });
      expect(result.replies).toEqual([]);
    } finally {
      await topology().exec('wan', 'ip', ['route', 'del', '198.51.100.0/24']);
    }
  });
});

describe.runIf(netns)('the testbed router with masquerade random', () => {
  const topology = useTopology({ randomPorts: true });
  beforeAll(async () => {
    await startEchoPeer(topology(), 'wan', [
      { address: A.server, port: PLAIN_PORT },
      { address: A.server, port: PLAIN_PORT + 1 },
      { address: A.serverAlt, port: PLAIN_PORT },
    ]);
  });

  it('maps one local socket to a different public port per destination (symmetric NAT)', async () => {
    const result = await sendProbe(topology(), {
      transport: 'udp',
      from: 'lan',
      bind: A.agent,
      destinations: [
        { address: A.server, port: PLAIN_PORT },
        { address: A.server, port: PLAIN_PORT + 1 },
        { address: A.serverAlt, port: PLAIN_PORT },
      ],
      payload: 'mapping',
      waitMs: 3_000,
    });
    expect(result.replies).toHaveLength(3);
    const publicPorts = new Set(result.replies.map((reply) => reply.from.port));
    // Three independent random picks from the ephemeral range: a collision is ~1 in 10^4.
    expect(publicPorts.size).toBe(3);
  });
});

describe.runIf(netns)('the testbed router with a 3 s UDP timeout', () => {
  const topology = useTopology({ udpTimeoutSeconds: 3 });
  beforeAll(async () => {
    await startEchoPeer(topology(), 'wan', [{ address: A.server, port: PLAIN_PORT }]);
  });

  it('delivers a reply sent after 1 s of idle but drops one sent after 5 s', async () => {
    const send = (delayMs: number) =>
      sendProbe(topology(), {
        transport: 'udp',
        from: 'lan',
        bind: A.agent,
        destinations: [{ address: A.server, port: PLAIN_PORT }],
        payload: `DELAY ${delayMs}\n`,
        waitMs: 6_500,
      });
    // Two sockets, two bindings, run side by side: the whole test costs one 6.5 s wait.
    const [early, late] = await Promise.all([send(1_000), send(5_000)]);
    expect(early.replies).toHaveLength(1);
    expect(late.replies).toEqual([]);
  });
});
