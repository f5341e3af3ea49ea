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
});

describe('renderHumanReport', () => {
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
