/**
 * Agent tokens: 32 random bytes, base64url (43 characters). Only the SHA-256 is stored, so a copy
 * of the database does not let anyone write into a site; a lost token is revoked and replaced.
 */
import { createHash, randomBytes } from 'node:crypto';

/** generateAgentToken returns a fresh token; show it once and store only hashAgentToken(token). */
export function generateAgentToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * hashAgentToken is the hex SHA-256 the store keys tokens by. A plain hash (no salt, no KDF) is
 * enough because tokens carry 256 bits of entropy: there is nothing to brute-force, and a
 * deterministic hash is what makes the lookup an index hit.
 */
export function hashAgentToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
