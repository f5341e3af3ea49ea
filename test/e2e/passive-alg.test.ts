/**
 * Passive SIP ALG detection on the path to the site's own PBX: `check --target` sends the OPTIONS
 * keep-alive to a real Kamailio in the wan namespace, through the router with and without the
 * kernel's SIP ALG (nf_nat_sip), and compares the received= Kamailio wrote with the STUN mapping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '@algwatch/protocol/check-report';
import { startKamailio, type RunningKamailio } from '../testbed/kamailio.js';
import { requireNetns } from '../testbed/netns-gate.js';
import { TESTBED_ADDRESSES as A, TESTBED_INTERFACES, useTopology, type TopologyOptions } from '../testbed/topology.js';
import { requireReport, runAgentCheck, startAlgwatchServer, type RunningServer } from './algwatch-processes.js';

const netns = requireNetns();

/** The site's PBX: a third address in the wan, since the reflector holds 5060 on .10 and .11. */
const PBX = '203.0.113.20';

function checkAgainstPbx(options: TopologyOptions): () => CheckReport {
  const topology = useTopology(options);
  let server: RunningServer | undefined;
  let pbx: RunningKamailio | undefined;
  let report: CheckReport | undefined;
  beforeAll(async () => {
    const added = await topology().exec('wan', 'ip', ['addr', 'add', `${PBX}/24`, 'dev', TESTBED_INTERFACES.wan]);
    if (added.code !== 0) throw new Error(`cannot add ${PBX} in the wan: ${added.stderr}`);
    [server, pbx] = await Promise.all([startAlgwatchServer(topology()), startKamailio(topology(), 'wan', PBX)]);
    report = requireReport(await runAgentCheck(topology(), ['--target', `${PBX}:5060`]));
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), pbx?.stop()]);
  });
  return () => {
    if (!report) throw new Error('the check did not run (see the beforeAll error above)');
    return report;
  };
}

describe.runIf(netns)('check --target toward a Kamailio PBX behind the kernel SIP ALG', () => {
  const report = checkAgainstPbx({ sipAlg: true });

  it("reads its own private address in Kamailio's received= while STUN sees the router's", () => {
    expect(report().nat?.publicAddress).toBe(A.routerWan);
    expect(report().sipOptions).toMatchObject({
      target: `${PBX}:5060`,
      result: 'ok',
      statusCode: 200,
      publicAddress: A.agent,
      localAddress: A.agent,
      stunAddress: A.routerWan,
      algOnPath: true,
    });
    expect(report().sipOptions?.algFields.join(' ')).toContain(`Via received=${A.agent}`);
  });

  it('raises "SIP ALG on the path to" the PBX, naming the fields, both addresses and the ALG remediation', () => {
    const problem = report().problems.find((candidate) => candidate.code === 'sip_alg_on_path');
    expect(problem, JSON.stringify(report().problems)).toBeDefined();
    expect(problem?.severity).toBe('critical');
    expect(problem?.summary).toContain(`SIP ALG on the path to ${PBX}:5060 (UDP)`);
    expect(problem?.summary).toContain('Via received=198.51.100.2');
    expect(problem?.summary).toContain('STUN sees 203.0.113.1');
    expect(problem?.remediation).toContain('Turn SIP ALG off on the router');
  });
});

describe.runIf(netns)('check --target toward a Kamailio PBX through plain masquerade', () => {
  const report = checkAgainstPbx({ sipAlg: false });

  it("reads the router's public address in received=, matching STUN, and raises nothing about the path", () => {
    expect(report().sipOptions).toMatchObject({ result: 'ok', statusCode: 200, publicAddress: A.routerWan, stunAddress: A.routerWan, algOnPath: false, algFields: [] });
    expect(report().problems.map((problem) => problem.code)).not.toContain('sip_alg_on_path');
  });
});
