import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRelationalStore } from '../relational/open.js';
import type { RelationalStore } from '../relational/relational-store.js';
import { TEST_DATABASES, type TestDatabase } from '../relational/test-databases.js';
import { AlertStore } from '../alerting/alert-store.js';
import { newAlertRecord } from '../alerting/lifecycle.js';
import { alertsCommand } from './alerts.js';
import { ruleCommand } from './rule.js';
import { silenceCommand } from './silence.js';
import type { CommandOptions } from './store-command.js';

type Command = (argv: string[], options: CommandOptions) => Promise<number>;

describe.each(TEST_DATABASES)('alerting commands on %s', (_label, createDatabase) => {
  let database: TestDatabase;
  let store: RelationalStore;

  beforeAll(async () => {
    database = await createDatabase();
    store = await openRelationalStore(database.options);
    await store.createSite('hq', 'acme');
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  async function run(command: Command, argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await command(argv, { ...database.options, stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
    return { code, stdout, stderr };
  }

  it('silences a site for a while, lists the silence and expires it', async () => {
    const added = await run(silenceCommand, ['add', '--site', 'hq', '--rule', 'sip_alg_udp', '--for', '2h', '--reason', 'router swap']);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const id = /^silence (\w+): site hq \(tenant acme\), sip_alg_udp, from \S+ for 2h \(router swap\)$/.exec(added.stdout.trim())?.[1];
    expect(id).toBeDefined();
    const listed = await run(silenceCommand, ['list']);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('router swap');
    expect(await run(silenceCommand, ['expire', id as string])).toMatchObject({ code: 0, stdout: `expired silence ${id}\n` });
    expect((await run(silenceCommand, ['list'])).stdout).toBe('no active or planned silences\n');
    expect(await run(silenceCommand, ['expire', id as string])).toMatchObject({ code: 1, stderr: `algwatch-server silence: no active silence ${id}: see \`silence list\`\n` });
  });

  it('refuses a silence for an unknown site or tenant in one line, exit 1, and bad usage with exit 2', async () => {
    expect(await run(silenceCommand, ['add', '--site', 'nowhere', '--for', '1h', '--reason', 'x'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'algwatch-server silence: no site nowhere: see `site list`\n',
    });
    expect(await run(silenceCommand, ['add', '--tenant', 'nobody', '--for', '1h', '--reason', 'x'])).toMatchObject({ code: 1, stderr: 'algwatch-server silence: no tenant nobody: see `site list`\n' });
    const noReason = await run(silenceCommand, ['add', '--site', 'hq', '--for', '1h']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/^algwatch-server silence: --reason is required/);
    expect((await run(silenceCommand, ['add', '--site', 'hq', '--for', 'soon', '--reason', 'x'])).stderr).toMatch(/--for needs a duration/);
    expect((await run(silenceCommand, ['add', '--site', 'hq', '--rule', 'nope', '--for', '1h', '--reason', 'x'])).stderr).toMatch(/unknown rule nope/);
    expect((await run(silenceCommand, ['list'])).stdout).toBe('no active or planned silences\n');
  });

  it('overrides a rule per tenant and per site, lists it and resets it', async () => {
    expect(await run(ruleCommand, ['set', 'target_down', '--tenant', 'acme', '--threshold', '5', '--severity', 'warning'])).toMatchObject({
      code: 0,
      stdout: 'target_down for tenant acme: severity warning, threshold 5\n',
    });
    expect(await run(ruleCommand, ['set', 'target_slow', '--site', 'hq', '--for', '5m', '--off'])).toMatchObject({ code: 0, stdout: 'target_slow for site hq (tenant acme): off, for 5m\n' });
    const listed = (await run(ruleCommand, ['list'])).stdout;
    expect(listed).toMatch(/target_down +critical +on, for 0s, clear after 1, threshold 3/);
    expect(listed).toContain('tenant acme: severity warning, threshold 5');
    expect(listed).toContain('site hq (tenant acme): off, for 5m');
    expect(await run(ruleCommand, ['reset', 'target_slow', '--site', 'hq'])).toMatchObject({ code: 0 });
    expect((await run(ruleCommand, ['list'])).stdout).not.toContain('site hq (tenant acme)');
    expect((await run(ruleCommand, ['set', 'target_error', '--tenant', 'acme', '--codes', 'abc'])).stderr).toMatch(/--codes must be SIP status codes/);
    expect((await run(ruleCommand, ['set', 'bogus', '--tenant', 'acme', '--off'])).code).toBe(2);
    expect((await run(ruleCommand, ['set', 'target_down', '--site', 'nowhere', '--off'])).code).toBe(1);
  });

  it('lists firing alerts with how their notification went, and the history and failures with --all', async () => {
    const site = await store.findSite('hq', 'acme');
    const alerts = new AlertStore(store.db);
    const record = newAlertRecord({ fingerprint: 'a'.repeat(64), rule: 'sip_alg_udp', tenant: 'acme', siteId: site.id, siteName: 'hq', target: 'reflector', transport: 'udp', agent: 'desk-1', severity: 'critical' });
    Object.assign(record, { state: 'firing', startsAt: Date.now(), episode: 'ep1', summary: 'SIP ALG is rewriting SIP over UDP (Via)' });
    await alerts.recordFiring(record);
    await alerts.appendHistory([{ fingerprint: record.fingerprint, rule: record.rule, severity: 'critical', state: 'firing', tenant: 'acme', siteName: 'hq', target: 'reflector', transport: 'udp', summary: record.summary, at: new Date().toISOString() }]);
    await alerts.claimNotifications([{ key: 'ep1|firing|0', fingerprint: record.fingerprint, episode: 'ep1', state: 'firing', tenant: 'acme', siteName: 'hq' }]);
    await alerts.recordDelivery(['ep1|firing|0'], { delivered: false, failure: 'ops-mail: connection refused by 127.0.0.1:2525' });

    const firing = await run(alertsCommand, []);
    expect(firing.code).toBe(0);
    expect(firing.stdout).toMatch(/critical +acme +hq +sip_alg_udp +reflector\/udp .*FAILED: ops-mail: connection refused by 127\.0\.0\.1:2525 +SIP ALG is rewriting SIP over UDP \(Via\)/);
    const all = await run(alertsCommand, ['--all']);
    expect(all.stdout).toContain('state changes of the last 7 days:');
    expect(all.stdout).toMatch(/firing +critical +acme +hq +sip_alg_udp/);
    expect(all.stdout).toMatch(/delivery failures:\nCLAIMED.*\n.*ops-mail: connection refused/);
    expect((await run(alertsCommand, ['--bogus'])).stderr).toMatch(/^algwatch-server alerts: unknown flag --bogus/);
  });
});
