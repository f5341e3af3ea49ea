import { describe, expect, it } from 'vitest';
import { ConfigError, parseServerConfig } from './config.js';

function problemsOf(argv: string[], env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseServerConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('parseServerConfig', () => {
  it('uses the documented defaults when nothing is given', () => {
    const config = parseServerConfig([], {});
    expect(config).toMatchObject({ bind: '0.0.0.0', sipPort: 5060, tlsPort: 5061, stunPort: 3478, stunAltPort: 3479, httpPort: 8080, dataDir: './data' });
    expect(config.altAddress).toBeUndefined();
  });

  it('lets flags win over ALGWATCH_* variables', () => {
    const config = parseServerConfig(['--sip-port', '5070'], { ALGWATCH_SIP_PORT: '5080', ALGWATCH_BIND: '127.0.0.1' });
    expect(config.sipPort).toBe(5070);
    expect(config.bind).toBe('127.0.0.1');
    expect(config.httpBind).toBe('127.0.0.1');
  });

  it('derives the alternate STUN port from the STUN port', () => {
    expect(parseServerConfig(['--stun-port', '4000'], {}).stunAltPort).toBe(4001);
  });

  it('names an unknown flag in one line', () => {
    expect(problemsOf(['--sip-prot', '5060'])).toEqual(['unknown flag --sip-prot']);
  });

  it('reports every bad value at once, one line each', () => {
    expect(problemsOf(['--sip-port', 'x', '--bind', 'example'], { ALGWATCH_INFLUX_URL: 'influx' })).toEqual([
      '--bind (ALGWATCH_BIND) must be an IP address, e.g. 0.0.0.0 or 203.0.113.10',
      '--sip-port (ALGWATCH_SIP_PORT) must be a port number from 0 to 65535',
      '--influx-url (ALGWATCH_INFLUX_URL) must look like http://HOST:8086/DATABASE',
    ]);
  });

  it('reads the alerting flags, with the documented defaults', () => {
    expect(parseServerConfig([], {})).toMatchObject({ agentOfflineAfterMs: 90_000, alertGroupWaitMs: 30_000, alertGroupIntervalMs: 60_000, alertRepeatIntervalMs: 4 * 3_600_000 });
    const config = parseServerConfig(['--agent-offline-after', '2m', '--alert-group-wait', '0', '--public-url', 'https://algwatch.msp.example', '--smtp-from', 'algwatch <alerts@msp.example>'], {});
    expect(config).toMatchObject({ agentOfflineAfterMs: 120_000, alertGroupWaitMs: 0, publicUrl: 'https://algwatch.msp.example', smtpFrom: 'algwatch <alerts@msp.example>' });
    expect(problemsOf(['--agent-offline-after', 'soon', '--public-url', 'algwatch.example', '--smtp-from', 'nobody'])).toEqual([
      '--smtp-from (ALGWATCH_SMTP_FROM) must be an address like algwatch@msp.example or "algwatch <algwatch@msp.example>"',
      '--public-url (ALGWATCH_PUBLIC_URL) must be an http:// or https:// URL, e.g. https://algwatch.msp.example',
      '--agent-offline-after (ALGWATCH_AGENT_OFFLINE_AFTER) must be a duration like 90s, 2m or 4h',
    ]);
  });

  it('refuses a certificate without its key', () => {
    expect(problemsOf(['--tls-cert', 'a.crt'])).toEqual(['--tls-cert and --tls-key go together: give both, or neither for a self-signed certificate']);
  });
});
