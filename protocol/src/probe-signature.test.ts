import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  PROBE_SIGNATURE_WINDOW_S,
  parseSipSignatureValue,
  parseStunProbeUsername,
  probeKeyOfToken,
  probeKeyOfTokenHash,
  probeTimeFresh,
  sipSignatureValid,
  sipSignatureValue,
  stunProbeUsername,
} from './probe-signature.js';

const token = 'kF3mVbq1n0Jx8yZ2cT7wQe5rUa9sDl4hPg6oIiMvNbE';

describe('probe keys', () => {
  it('derives the same key from the token (agent) and from its stored SHA-256 (server), and another for another token', () => {
    const agentSide = probeKeyOfToken(token);
    const serverSide = probeKeyOfTokenHash(createHash('sha256').update(token).digest('hex'));
    expect(serverSide).toEqual(agentSide);
    expect(agentSide.secret).toHaveLength(32);
    expect(agentSide.id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(probeKeyOfToken(`${token}x`).id).not.toBe(agentSide.id);
    // The key names nothing of the token: neither it nor its hash appears in the id.
    expect(token).not.toContain(agentSide.id);
  });

  it('writes and reads the STUN USERNAME of a signed probe', () => {
    const key = probeKeyOfToken(token);
    expect(parseStunProbeUsername(stunProbeUsername(key, 1_795_640_000_123))).toEqual({ keyId: key.id, timeS: 1_795_640_000 });
    expect(parseStunProbeUsername('evtj:h6vY')).toBeNull();
  });

  it('signs a SIP probe with a nonce and time that only the key verifies', () => {
    const key = probeKeyOfToken(token);
    const claim = parseSipSignatureValue(sipSignatureValue(key, 1_795_640_000_000));
    expect(claim).toMatchObject({ keyId: key.id, timeS: 1_795_640_000 });
    expect(sipSignatureValid(claim!, key.secret)).toBe(true);
    expect(sipSignatureValid(claim!, probeKeyOfToken('other').secret)).toBe(false);
    expect(sipSignatureValid({ ...claim!, timeS: claim!.timeS + 1 }, key.secret)).toBe(false);
    expect(parseSipSignatureValue('aw1 key=short ts=1 nonce=x mac=y')).toBeNull();
  });

  it('honours a signature time only within the window of the clock', () => {
    const now = 1_795_640_000_000;
    expect(probeTimeFresh(now / 1000 - PROBE_SIGNATURE_WINDOW_S, now)).toBe(true);
    expect(probeTimeFresh(now / 1000 + PROBE_SIGNATURE_WINDOW_S + 1, now)).toBe(false);
  });
});
