/** alertFingerprint identifies one alert: rule + site + target + transport (Alertmanager's fingerprint). */
import { createHash } from 'node:crypto';

export interface AlertKey {
  rule: string;
  siteId: string;
  target?: string | undefined;
  transport?: string | undefined;
}

/** alertFingerprint is the sha256 hex of the key's parts; equal keys give equal fingerprints. */
export function alertFingerprint(key: AlertKey): string {
  return createHash('sha256').update(JSON.stringify([key.rule, key.siteId, key.target ?? '', key.transport ?? ''])).digest('hex');
}
