import { describe, expect, it } from 'vitest';
import { AGENT_FINDINGS } from './agent.js';

describe('agent findings', () => {
  it('defines agent_offline as critical, raised from the agent rather than a probe', () => {
    expect(AGENT_FINDINGS.agent_offline).toMatchObject({ code: 'agent_offline', source: 'agent', defaultSeverity: 'critical' });
    expect(AGENT_FINDINGS.agent_offline.remediation).toMatch(/internet link/);
  });
});
