/**
 * Budget starvation (issue 16, attack 4): UDP "from" a client's public address empties that
 * address's reflector budget, and the client's unsigned `check` reads "blocked". A check signed with
 * the site's token pays from the site's budget instead, which the spoofer cannot reach: it stays
 * clean during the same flood.
 *
 * The spoofer runs in the router namespace with the router's public address (203.0.113.1, the
 * address the NAT gives the agent), so the server sees the flood coming from the client's address,
 * as with spoofing on the Internet; its replies end at the router, never at the agent.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand, type ManagedProcess } from '../helpers/process.js';
import { requireNetns } from '../testbed/netns-gate.js';
import { TESTBED_ADDRESSES as A, useTopology } from '../testbed/topology.js';
import { requireReport, runAgentCheck, startAlgwatchServer, type RunningServer } from './algwatch-processes.js';

const netns = requireNetns();
const SERVER_BIN = fileURLToPath(new URL('../../server/bin/algwatch-server.js', import.meta.url));
const SPOOF_FLOOD = fileURLToPath(new URL('../testbed/peers/spoof-flood.mjs', import.meta.url));
const SIGNED_FLOOD = fileURLToPath(new URL('../testbed/peers/signed-flood.mjs', import.meta.url));
/** Issue 16 saw 300-1,000 packets/s empty the budget (200/s, burst 2,000 per address). */
const SPOOFED_PER_SECOND = 1_000;

describe.runIf(netns)('check while its public address is spoofed', () => {
  const topology = useTopology({ sipAlg: false });
  let server: RunningServer | undefined;
  let flood: ManagedProcess | undefined;
  let token = '';

  beforeAll(async () => {
    server = await startAlgwatchServer(topology());
    const added = await runCommand(process.execPath, [SERVER_BIN, 'site', 'add', 'spoofed', '--data-dir', server.dataDir]);
    expect(added.code, added.stderr).toBe(0);
    token = added.stdout.trim().split('\n').at(-1)!;
    // The server reloads site keys every 2 s; the flood needs a few seconds to empty the burst.
    flood = topology().spawn('router', process.execPath, [SPOOF_FLOOD, JSON.stringify({ bind: A.routerWan, address: A.server, port: 3478, perSecond: SPOOFED_PER_SECOND })]);
    await flood.waitForOutput(/flooding/, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 4_000));
  }, 60_000);

  afterAll(async () => {
    await flood?.stop();
    await server?.stop();
  });

  it('makes an unsigned check lose its answers: the attack works on the address budget', async () => {
    const run = await runAgentCheck(topology());
    const statuses = run.report ? Object.values(run.report.sipAlg).map((sip) => sip.status) : [];
    // Either nothing answered at all (exit 2) or some transport reads blocked: the false verdict.
    expect(run.code === 2 || statuses.includes('blocked'), `exit ${run.code}, statuses ${statuses.join(',')}`).toBe(true);
  }, 90_000);

  it('keeps a check signed with the site token clean, every transport answered and STUN mapped, exit 0', async () => {
    const run = await runAgentCheck(topology(), ['--token', token]);
    const report = requireReport(run);
    expect(Object.values(report.sipAlg).map((sip) => sip.status)).toEqual(['clean', 'clean', 'clean']);
    expect(report.nat?.publicAddress).toBe(A.routerWan);
    expect(report.problems).toEqual([]);
    expect(run.code).toBe(0);
  }, 90_000);

  it('says "reflector busy", never "blocked", when the site itself spends more than its budget', async () => {
    // The site's own key, sending from the wan side at 5× the site budget's refill (200/s).
    const spender = topology().spawn('wan', process.execPath, [SIGNED_FLOOD, JSON.stringify({ token, address: A.server, port: 3478, perSecond: 1_000 })]);
    try {
      await spender.waitForOutput(/flooding/, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 4_000)); // the burst (2,000) is spent
      const run = await runAgentCheck(topology(), ['--token', token]);
      const report = requireReport(run);
      const sip = Object.values(report.sipAlg);
      // The budget refills at 200/s between the spender's bursts, so a probe may still find an
      // answer: each transport is busy or clean, at least one busy, none blocked.
      expect(sip.filter((transport) => transport.status === 'busy').length).toBeGreaterThan(0);
      for (const transport of sip) {
        expect(['busy', 'clean']).toContain(transport.status);
        if (transport.status === 'busy') expect(transport.reason).toContain('reflector busy');
      }
      // STUN answered 508 "busy" (no NAT verdict) or was answered: never a "STUN failing" or "blocked" problem.
      expect(report.problems).toEqual([]);
    } finally {
      await spender.stop();
    }
  }, 90_000);
});
