/**
 * Fresh vs established UDP binding lifetimes through a real Linux router: conntrack keeps a flow
 * that saw one exchange for nf_conntrack_udp_timeout (10 s here) and one that carried traffic both
 * ways for more than about 2 s for nf_conntrack_udp_timeout_stream (40 s here). One
 * `check --binding-lifetime` run measures both on parallel sockets and advises a keep-alive interval.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '@algwatch/protocol/check-report';
import { requireNetns } from '../testbed/netns-gate.js';
import { useTopology } from '../testbed/topology.js';
import { requireReport, runAgentCheck, startAlgwatchServer, type RunningServer } from './algwatch-processes.js';

const netns = requireNetns();

describe.runIf(netns)('check --binding-lifetime through a router with udp_timeout 10 s and udp_timeout_stream 40 s', () => {
  const topology = useTopology({ udpTimeoutSeconds: 10, udpStreamTimeoutSeconds: 40 });
  let server: RunningServer | undefined;
  let report: CheckReport | undefined;
  beforeAll(async () => {
    server = await startAlgwatchServer(topology());
    report = requireReport(await runAgentCheck(topology(), ['--binding-lifetime', '--max-lifetime', '60'], 120_000));
  }, 150_000);
  afterAll(async () => {
    await server?.stop();
  });
  const lifetime = () => {
    if (!report?.bindingLifetime) throw new Error(`no binding lifetime in the report: ${JSON.stringify(report)}`);
    return report.bindingLifetime;
  };

  it('measures fresh bindings at about 10 s and established ones at about 40 s, within the probe\'s resolution', () => {
    expect(lifetime().udpSeconds).toBeGreaterThanOrEqual(9);
    expect(lifetime().udpSeconds).toBeLessThanOrEqual(11);
    expect(lifetime().establishedSeconds).toBeGreaterThanOrEqual(39);
    expect(lifetime().establishedSeconds).toBeLessThanOrEqual(41);
  });

  it('advises the first keep-alive before the fresh lifetime and the rest before the established one', () => {
    const advice = lifetime().keepalive;
    expect(advice?.firstSeconds).toBeLessThan(lifetime().lowerSeconds);
    expect(advice?.steadySeconds).toBeGreaterThan(lifetime().lowerSeconds);
    expect(advice?.steadySeconds).toBeLessThan(lifetime().establishedLowerSeconds!);
  });

  it('grades the binding by the established lifetime (warning, not critical) and names both lifetimes and the advice', () => {
    const problem = report?.problems.find((candidate) => candidate.code === 'udp_binding_short');
    expect(problem?.severity).toBe('warning');
    expect(problem?.summary).toMatch(/after about \d+ s idle when fresh, and after about \d+ s once they carried traffic both ways/);
    expect(problem?.remediation).toContain(`send the first keep-alive within ${lifetime().keepalive?.firstSeconds} s`);
  });
});
