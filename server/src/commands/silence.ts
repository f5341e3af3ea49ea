/**
 * `algwatch-server silence ...`: hold back alert notifications for a tenant or a site, optionally
 * for one rule, for a while (maintenance windows start later with --starts-in).
 *
 *   silence add (--tenant T | --site S [--tenant T]) [--rule R] --for 2h --reason TEXT [--starts-in 1h]
 *   silence list
 *   silence expire ID
 *
 * Running servers re-read silences every 2 s. Exit codes as `site`: 1 unknown site/tenant/id, 2 usage.
 */
import { parseDuration, formatDuration } from '../alerting/durations.js';
import { isRuleName, RULE_NAMES } from '../alerting/rule-settings.js';
import { SilenceStore, type Silence } from '../alerting/silence-store.js';
import { formatTable, parseCommand, RefusedError, runStoreCommand, UsageError, type CommandOptions } from './store-command.js';

export const SILENCE_USAGE =
  'usage: silence add (--tenant T | --site S) [--rule R] --for 2h --reason TEXT [--starts-in D] | silence list | silence expire ID (each also takes --data-dir DIR, --database-url URL)';

const FLAGS = { tenant: 'string', site: 'string', rule: 'string', for: 'string', reason: 'string', 'starts-in': 'string' } as const;

/** silenceCommand runs `silence <argv...>` and resolves to the exit code. */
export async function silenceCommand(argv: string[], options: CommandOptions): Promise<number> {
  return runStoreCommand('silence', SILENCE_USAGE, argv, options, (args) => parseCommand(args, FLAGS), async (store, { positionals, values }, out) => {
    const [action, ...rest] = positionals;
    const silences = new SilenceStore(store.db);
    if (action === 'list') {
      if (rest.length > 0) throw new UsageError(`silence list takes no arguments, got ${rest.join(' ')}`);
      out(formatSilences(await silences.listSilences(new Date().toISOString())));
      return;
    }
    if (action === 'expire') {
      if (rest.length !== 1) throw new UsageError('silence expire needs exactly one ID');
      const id = rest[0] as string;
      if (!(await silences.expireSilence(id))) throw new RefusedError(`no active silence ${id}: see \`silence list\``);
      out(`expired silence ${id}`);
      return;
    }
    if (action !== 'add') throw new UsageError(action === undefined ? 'missing action: add, list or expire' : `unknown action ${action}`);
    if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
    const tenant = values.tenant as string | undefined;
    const siteRef = values.site as string | undefined;
    const rule = values.rule as string | undefined;
    if (tenant === undefined && siteRef === undefined) throw new UsageError('say what to silence: --tenant T or --site S');
    if (rule !== undefined && !isRuleName(rule)) throw new UsageError(`unknown rule ${rule} (rules: ${RULE_NAMES.join(', ')})`);
    const forMs = parseDuration(String(values.for ?? ''));
    if (values.for === undefined || forMs === null || forMs <= 0) throw new UsageError('--for needs a duration like 30m or 2h');
    const reason = String(values.reason ?? '').trim();
    if (reason === '') throw new UsageError('--reason is required: say why, for whoever wonders where the alerts went');
    const startsInMs = values['starts-in'] === undefined ? 0 : parseDuration(String(values['starts-in']));
    if (startsInMs === null) throw new UsageError('--starts-in needs a duration like 1h');

    let scope: { tenant: string | null; siteId: string | null; siteName: string | null };
    if (siteRef !== undefined) {
      const site = await store.findSite(siteRef, tenant);
      scope = { tenant: site.tenantName, siteId: site.id, siteName: site.name };
    } else {
      const known = await store.db.selectFrom('tenants').select('name').where('name', '=', tenant as string).executeTakeFirst();
      if (!known) throw new RefusedError(`no tenant ${tenant}: see \`site list\``);
      scope = { tenant: tenant as string, siteId: null, siteName: null };
    }
    const startsAt = Date.now() + startsInMs;
    const silence = await silences.addSilence({
      ...scope,
      rule: rule ?? null,
      startsAt: new Date(startsAt).toISOString(),
      endsAt: new Date(startsAt + forMs).toISOString(),
      reason,
    });
    out(`silence ${silence.id}: ${describeScope(silence)}, ${silence.rule ?? 'all rules'}, from ${silence.startsAt} for ${formatDuration(forMs)} (${reason})`);
  });
}

function describeScope(silence: Silence): string {
  return silence.siteName !== null ? `site ${silence.siteName} (tenant ${silence.tenant})` : `tenant ${silence.tenant}`;
}

function formatSilences(silences: Silence[]): string {
  if (silences.length === 0) return 'no active or planned silences';
  return formatTable([
    ['ID', 'SCOPE', 'RULE', 'STARTS', 'ENDS', 'REASON'],
    ...silences.map((s) => [s.id, describeScope(s), s.rule ?? 'all', s.startsAt, s.endsAt, s.reason]),
  ]);
}
