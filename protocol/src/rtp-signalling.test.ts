import { describe, expect, it } from 'vitest';
import { decodeRtpSessionHeader, encodeRtpSessionHeader, rtpSessionAnswerSchema, sdpAudioMedia } from './rtp-signalling.js';

const sdp = (...lines: string[]) => `${lines.join('\r\n')}\r\n`;

describe('sdpAudioMedia', () => {
  it('reads the audio port and the session-level address, as phones write them', () => {
    expect(sdpAudioMedia(sdp('v=0', 'o=- 1 1 IN IP4 198.51.100.2', 's=-', 'c=IN IP4 198.51.100.2', 't=0 0', 'm=audio 20000 RTP/AVP 0 8 101'))).toEqual({ address: '198.51.100.2', port: 20000, nonce: null });
  });

  it('prefers the media-level c= and reads the reflector\'s nonce', () => {
    const body = sdp('v=0', 'c=IN IP4 192.0.2.1', 'm=audio 30000 RTP/AVP 0', 'c=IN IP4 203.0.113.10', 'a=x-algwatch-nonce:00112233445566ff');
    expect(sdpAudioMedia(body)).toEqual({ address: '203.0.113.10', port: 30000, nonce: '00112233445566ff' });
  });

  it('gives null for an offer without audio, without an address, with port 0, or with garbage', () => {
    expect(sdpAudioMedia(sdp('v=0', 'c=IN IP4 198.51.100.2', 'm=video 20000 RTP/AVP 96'))).toBeNull();
    expect(sdpAudioMedia(sdp('v=0', 'm=audio 20000 RTP/AVP 0'))).toBeNull();
    expect(sdpAudioMedia(sdp('v=0', 'c=IN IP4 198.51.100.2', 'm=audio 0 RTP/AVP 0'))).toBeNull();
    expect(sdpAudioMedia(sdp('v=0', 'c=IN IP4 not-an-address', 'm=audio 99999 RTP/AVP 0'))).toBeNull();
    expect(sdpAudioMedia('\u0000\u0001 garbage')).toBeNull();
  });
});

describe('the X-Algwatch-Rtp-Session header', () => {
  it('round-trips, and reads anything else as null', () => {
    const answer = { v: 1 as const, sdpSeen: '203.0.113.1:20000', signalling: '203.0.113.1:5060' };
    const value = encodeRtpSessionHeader(answer);
    expect(value).not.toContain('203.0.113.1'); // no address as text for an ALG to rewrite
    expect(decodeRtpSessionHeader(value, rtpSessionAnswerSchema)).toEqual(answer);
    expect(decodeRtpSessionHeader('!!', rtpSessionAnswerSchema)).toBeNull();
    expect(decodeRtpSessionHeader(Buffer.from('{"v":2}').toString('base64url'), rtpSessionAnswerSchema)).toBeNull();
    expect(decodeRtpSessionHeader(undefined, rtpSessionAnswerSchema)).toBeNull();
  });
});
