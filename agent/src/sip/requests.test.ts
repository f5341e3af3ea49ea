import { describe, expect, it } from 'vitest';
import { parseSipMessage, sipHeaderValue, splitSdpLines } from '@algwatch/protocol/sip';
import { buildSipRequest } from './requests.js';

describe('buildSipRequest', () => {
  it('puts the local address:port in Via, Contact, From and SDP o=/c=/m= of an INVITE', () => {
    const ends = { transport: 'udp' as const, localAddress: '192.168.1.20', localPort: 5062, remoteHost: 'sip.example.net', remotePort: 5060 };
    const request = buildSipRequest('INVITE', ends, { probeMarker: true });
    const message = parseSipMessage(request.text)!;
    expect(message.startLine).toBe('INVITE sip:echo@sip.example.net:5060 SIP/2.0');
    expect(sipHeaderValue(message, 'Via')).toBe(`SIP/2.0/UDP 192.168.1.20:5062;branch=${request.branch};rport`);
    expect(sipHeaderValue(message, 'Contact')).toBe('<sip:algwatch@192.168.1.20:5062>');
    expect(sipHeaderValue(message, 'From')).toMatch(/^<sip:algwatch@192\.168\.1\.20:5062>;tag=[0-9a-f]{8}$/);
    expect(sipHeaderValue(message, 'X-Algwatch-Probe')).toBe('1');
    expect(sipHeaderValue(message, 'Content-Length')).toBe(String(message.body.length));
    const sdp = splitSdpLines(message.body);
    expect(sdp).toContain('c=IN IP4 192.168.1.20');
    expect(sdp).toContain('m=audio 5062 RTP/AVP 0 8 101');
    expect(sdp.find((line) => line.startsWith('o='))).toMatch(/^o=algwatch \d+ \d+ IN IP4 192\.168\.1\.20$/);
    expect(request.branch).toMatch(/^z9hG4bK/);
  });

  it('writes REGISTER with the local address in To, and TLS/IPv6 the SIP way', () => {
    const ends = { transport: 'tls' as const, localAddress: '2001:db8::5', localPort: 40000, remoteHost: '2001:db8::1', remotePort: 5061 };
    const message = parseSipMessage(buildSipRequest('REGISTER', ends, { probeMarker: false, cseqNumber: 7 }).text)!;
    expect(message.startLine).toBe('REGISTER sip:[2001:db8::1]:5061;transport=tls SIP/2.0');
    expect(sipHeaderValue(message, 'Via')).toMatch(/^SIP\/2\.0\/TLS \[2001:db8::5\]:40000;branch=z9hG4bK[0-9a-f]+;rport$/);
    expect(sipHeaderValue(message, 'To')).toBe('<sip:algwatch@[2001:db8::5]:40000>');
    expect(sipHeaderValue(message, 'Contact')).toBe('<sip:algwatch@[2001:db8::5]:40000;transport=tls>');
    expect(sipHeaderValue(message, 'CSeq')).toBe('7 REGISTER');
    expect(sipHeaderValue(message, 'X-Algwatch-Probe')).toBeUndefined();
    expect(message.body).toBe('');
  });
});
