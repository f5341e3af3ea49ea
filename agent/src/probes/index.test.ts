import { describe, expect, it } from 'vitest';
import { PROBE_NAMES } from '@algwatch/protocol/events';
import { PROBES } from './index.js';

describe('the probe registry', () => {
  it('has every probe the wire protocol names, each under its own name', () => {
    expect(Object.keys(PROBES).sort()).toEqual([...PROBE_NAMES].sort());
    for (const [key, probe] of Object.entries(PROBES)) expect(probe?.name).toBe(key);
  });

  it('gives every probe defaults its own options schema accepts', () => {
    for (const probe of Object.values(PROBES)) {
      const required = probe?.name === 'sip-alg' || probe?.name === 'sip-options' || probe?.name === 'crlf-keepalive' ? { transport: 'tcp' } : {};
      expect(probe!.optionsSchema.safeParse({ ...probe!.defaults, ...required }).success, probe!.name).toBe(true);
    }
  });
});
