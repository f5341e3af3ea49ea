import { describe, expect, it } from 'vitest';
import { parseSipMessage } from '@algwatch/protocol/sip';
import { dedupeRewrites, diffSipLayouts, layoutOf, layoutOfLines } from './diff.js';

const SENT = [
  'INVITE sip:echo@198.51.100.1:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK1;rport',
  'From: <sip:a@10.0.0.5:5062>;tag=1',
  'Contact: <sip:a@10.0.0.5:5062>',
  'Content-Length: 24',
  '',
  'v=0\r\nc=IN IP4 10.0.0.5\r\n',
].join('\r\n');

describe('diffSipLayouts', () => {
  it('reports nothing for identical messages', () => {
    const layout = layoutOf(parseSipMessage(SENT)!);
    expect(diffSipLayouts('outbound', layout, layout)).toEqual([]);
  });

  it('reports the differing address:port per header and SDP line', () => {
    const received = SENT.split('10.0.0.5:5062').join('203.0.113.7:1024').replace('IN IP4 10.0.0.5', 'IN IP4 203.0.113.7').replace('Length: 24', 'Length: 27');
    const rewrites = diffSipLayouts('outbound', layoutOf(parseSipMessage(SENT)!), layoutOf(parseSipMessage(received)!));
    expect(rewrites).toEqual([
      { direction: 'outbound', field: 'Via', sent: '10.0.0.5:5062', received: '203.0.113.7:1024' },
      { direction: 'outbound', field: 'From', sent: '10.0.0.5:5062', received: '203.0.113.7:1024' },
      { direction: 'outbound', field: 'Contact', sent: '10.0.0.5:5062', received: '203.0.113.7:1024' },
      { direction: 'outbound', field: 'Content-Length', sent: '24', received: '27' },
      { direction: 'outbound', field: 'SDP c=', sent: '10.0.0.5', received: '203.0.113.7' },
    ]);
  });

  it('reports a removed, added or reshaped header as whole lines', () => {
    const sent = layoutOfLines('SIP/2.0 200 OK', ['Via: SIP/2.0/UDP a:1;rport=1', 'Contact: <sip:x@a:1>'], []);
    const received = layoutOfLines('SIP/2.0 200 OK', ['v: SIP/2.0/UDP a:1;rport=1', 'Record-Route: <sip:alg>'], []);
    expect(diffSipLayouts('inbound', sent, received)).toEqual([
      { direction: 'inbound', field: 'Via', sent: 'Via:', received: 'v:' },
      { direction: 'inbound', field: 'Contact', sent: 'Contact: <sip:x@a:1>', received: '' },
      { direction: 'inbound', field: 'Record-Route', sent: '', received: 'Record-Route: <sip:alg>' },
    ]);
  });

  it('dedupes identical rewrites and keeps the first order', () => {
    const a = { direction: 'outbound' as const, field: 'Via', sent: 'x', received: 'y' };
    const b = { direction: 'inbound' as const, field: 'Via', sent: 'x', received: 'y' };
    expect(dedupeRewrites([a, b, { ...a }, b])).toEqual([a, b]);
  });
});
