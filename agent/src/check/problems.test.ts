import { describe, expect, it } from 'vitest';
import type { CheckReport, NatReport, SipAlgTransportReport } from '@algwatch/protocol/check-report';
import { findProblems } from './problems.js';
import { renderHumanReport } from './human-report.js';

const clean: SipAlgTransportReport = { status: 'clean', rewrites: [], rttMs: 3 };
const blocked: SipAlgTransportReport = { status: 'blocked', rewrites: [], rttMs: null, reason: 'no answer after 7 tries' };
const rewritten: SipAlgTransportReport = {
  status: 'detected',
  rttMs: 4,
  rewrites: [
    { direction: 'outbound', field: 'Via', sent: 'SIP/2.0/UDP 198.51.100.2:40000;rport', received: 'SIP/2.0/UDP 203.0.113.1:40000;rport' },
    { direction: 'inbound', field: 'Contact', sent: '<sip:echo@203.0.113.1:40000>', received: '<sip:echo@198.51.100.2:40000>' },
  ],
};
const coneNat: NatReport = {
  present: true, publicAddress: '203.0.113.1', publicPort: 40000, portPreserved: true,
  mapping: 'endpoint-independent', filtering: 'address-and-port-dependent',
};

describe('findProblems', () => {
  it('finds nothing on a clean path with a cone NAT and long bindings', () => {
    expect(findProblems({ udp: clean, tcp: clean, tls: clean }, coneNat, { udpSeconds: null, lowerSeconds: 300, upperSeconds: 300, elapsedMs: 300_500 })).toEqual([]);
  });

  it('reports an ALG on UDP as critical, naming the fields and both directions', () => {
    const [problem, ...rest] = findProblems({ udp: rewritten, tcp: clean, tls: clean }, coneNat, null);
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ code: 'sip_alg_udp', severity: 'critical' });
    expect(problem!.summary).toBe('SIP ALG is rewriting SIP over UDP (outbound and inbound: Via, Contact)');
    expect(problem!.remediation).toMatch(/Turn SIP ALG off/);
  });

  it('says SIP over UDP is blocked when only TLS answers', () => {
    const codes = findProblems({ udp: blocked, tcp: clean, tls: clean }, coneNat, null).map((p) => p.code);
    expect(codes).toEqual(['sip_udp_blocked']);
  });

  it('does not blame UDP when nothing answered at all', () => {
    expect(findProblems({ udp: blocked, tcp: blocked, tls: blocked }, null, null).map((p) => p.code)).toEqual([]);
  });

  it('warns when STUN alone gets no answer, with the same severity the section line shows', () => {
    const problems = findProblems({ udp: clean, tcp: clean, tls: clean }, null, null);
    expect(problems.map((p) => [p.code, p.severity])).toEqual([['stun_failing', 'warning']]);
    const report: CheckReport = {
      version: 1, server: '203.0.113.10', startedAt: '2026-11-25T21:00:00.000Z', durationMs: 1500,
      sipAlg: { udp: clean, tcp: clean, tls: clean }, nat: null, bindingLifetime: null, problems,
    };
    const text = renderHumanReport(report);
    expect(text).toContain('[warn] no STUN answer');
    expect(text).toContain('WARNING: No STUN answer: NAT type unknown (UDP 3478 blocked?)');
  });

  it('warns about symmetric NAT', () => {
    const codes = findProblems({ udp: clean, tcp: clean, tls: clean }, { ...coneNat, mapping: 'address-and-port-dependent', portPreserved: false }, null);
    expect(codes.map((p) => [p.code, p.severity])).toEqual([['nat_symmetric', 'warning']]);
  });

  it('grades short binding lifetimes against phone keep-alives and RFC 4787', () => {
    const lifetime = (udpSeconds: number) => ({ udpSeconds, lowerSeconds: udpSeconds - 1, upperSeconds: udpSeconds, elapsedMs: udpSeconds * 1000 });
    const at = (seconds: number) => findProblems({ udp: clean, tcp: clean, tls: clean }, coneNat, lifetime(seconds)).map((p) => p.severity);
    expect(at(30)).toEqual(['critical']);
    expect(at(60)).toEqual(['warning']);
    expect(at(120)).toEqual([]);
    const [problem] = findProblems({ udp: clean, tcp: clean, tls: clean }, coneNat, lifetime(60));
    expect(problem!.remediation).toContain('47 s or less'); // 80 % of the 59 s it was still alive
  });

  it('lists the worst problem first', () => {
    const lifetime = { udpSeconds: 20, lowerSeconds: 19, upperSeconds: 20, elapsedMs: 20_000 };
    const symmetric: NatReport = { ...coneNat, mapping: 'address-dependent' };
    expect(findProblems({ udp: clean, tcp: clean, tls: clean }, symmetric, lifetime).map((p) => p.code)).toEqual(['udp_binding_short', 'nat_symmetric']);
  });
});

describe('renderHumanReport', () => {
  it('marks a 20 s binding lifetime [FAIL], as critical as its problem, and a 90 s one [warn]', () => {
    const at = (seconds: number) => {
      const lifetime = { udpSeconds: seconds, lowerSeconds: seconds - 1, upperSeconds: seconds, elapsedMs: seconds * 1000 };
      const sipAlg = { udp: clean, tcp: clean, tls: clean };
      return renderHumanReport({
        version: 1, server: '203.0.113.10', startedAt: '2026-11-25T21:00:00.000Z', durationMs: 1500,
        sipAlg, nat: coneNat, bindingLifetime: lifetime, problems: findProblems(sipAlg, coneNat, lifetime),
      });
    };
    expect(at(20)).toContain('[FAIL] idle UDP bindings expire after 20 s');
    expect(at(20)).toContain('CRITICAL: UDP NAT bindings expire after about 20 s idle');
    expect(at(90)).toContain('[warn] idle UDP bindings expire after 90 s');
    expect(at(90)).toContain('WARNING: UDP NAT bindings expire after about 90 s idle');
    expect(at(150)).toContain('[ ok ] idle UDP bindings expire after 150 s');
  });

  it('marks a blocked TLS as the warning its problem is, and a transport nobody could judge as untested', () => {
    const sipAlg = { udp: rewritten, tcp: clean, tls: blocked };
    const text = renderHumanReport({
      version: 1, server: '203.0.113.10', startedAt: '2026-11-25T21:00:00.000Z', durationMs: 1500,
      sipAlg, nat: coneNat, bindingLifetime: null, problems: findProblems(sipAlg, coneNat, null),
    });
    expect(text).toContain('[FAIL] UDP: SIP ALG detected');
    expect(text).toContain('[warn] TLS: no answer');
    const unreachable = { udp: blocked, tcp: blocked, tls: blocked };
    const dark = renderHumanReport({
      version: 1, server: '203.0.113.10', startedAt: '2026-11-25T21:00:00.000Z', durationMs: 1500,
      sipAlg: unreachable, nat: coneNat, bindingLifetime: null, problems: findProblems(unreachable, coneNat, null),
    });
    expect(dark).toContain('[ -- ] UDP: no answer');
  });

  it('prints one verdict line per transport and each problem with what to do', () => {
    const report: CheckReport = {
      version: 1, server: '203.0.113.10', startedAt: '2026-11-25T21:00:00.000Z', durationMs: 1500,
      sipAlg: { udp: rewritten, tcp: clean, tls: clean }, nat: coneNat, bindingLifetime: null,
      problems: findProblems({ udp: rewritten, tcp: clean, tls: clean }, coneNat, null),
    };
    const text = renderHumanReport(report);
    expect(text).toContain('[FAIL] UDP: SIP ALG detected, 2 rewrite(s)');
    expect(text).toContain('outbound Via: SIP/2.0/UDP 198.51.100.2:40000;rport  ->  SIP/2.0/UDP 203.0.113.1:40000;rport');
    expect(text).toContain('[ ok ] TLS: untouched');
    expect(text).toContain('CRITICAL: SIP ALG is rewriting SIP over UDP');
    expect(text).toContain('behind NAT: public 203.0.113.1:40000');
  });

  it('prints the same advice once when the ALG rewrites both UDP and TCP', () => {
    const sipAlg = { udp: rewritten, tcp: rewritten, tls: clean };
    const report: CheckReport = {
      version: 1, server: '203.0.113.10', startedAt: '2026-11-25T21:00:00.000Z', durationMs: 1500,
      sipAlg, nat: coneNat, bindingLifetime: null, problems: findProblems(sipAlg, coneNat, null),
    };
    const text = renderHumanReport(report);
    expect(text.match(/Turn SIP ALG off/g)).toHaveLength(1);
    expect(text).toContain('CRITICAL: SIP ALG is rewriting SIP over TCP (outbound and inbound: Via, Contact)\n    what to do: as above');
  });
});
