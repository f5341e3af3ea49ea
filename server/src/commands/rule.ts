/**
 * `algwatch-server rule ...`: the built-in alert rules and their per-tenant / per-site overrides.
 *
 *   rule list
 *   rule set RULE (--tenant T | --site S [--tenant T]) [--severity critical|warning|info] [--for D]
 *            [--threshold N] [--codes 404,480-499] [--window N] [--clear-after N] [--off | --on]
 *   rule reset RULE (--tenant T | --site S [--tenant T])
 *
 * Running servers re-read overrides every 2 s.
 */
import { formatDuration, parseDuration } from '../alerting/durations.js';
import { DEFAULT_RULE_SETTINGS, isRuleName, RULE_NAMES, ruleOverrideSchema, type RuleName, type RuleOverride, type RuleSettings } from '../alerting/rule-settings.js';
import { RuleOverrideStore } from '../alerting/rule-store.js';
import type { RelationalStore } from '../relational/relational-store.js';
import { formatTable, parseCommand, RefusedError, runStoreCommand, UsageError, type CommandOptions } from './store-command.js';

export const RULE_USAGE =
  'usage: rule list | rule set RULE (--tenant T | --site S) [--severity S] [--for D] [--threshold N] [--codes LIST] [--window N] [--clear-after N] [--off|--on] | rule reset RULE (--tenant T | --site S) (each also takes --data-dir DIR, --database-url URL)';

const FLAGS = {
  tenant: 'string',
  site: 'string',
  severity: 'string',
  for: 'string',
  threshold: 'string',
  codes: 'string',
  window: 'string',
  'clear-after': 'string',
  off: 'boolean',
  on: 'boolean',
} as const;

export async function ruleCommand(argv: string[], options: CommandOptions): Promise<number> {
  return runStoreCommand('rule', RULE_USAGE, argv, options, (args) => parseCommand(args, FLAGS), async (store, { positionals, values }, out) => {
    const [action, ruleName, ...rest] = positionals;
    const overrides = new RuleOverrideStore(store.db);
    if (action === 'list') {
      if (ruleName !== undefined) throw new UsageError(`rule list takes no arguments, got ${ruleName}`);
      out(await formatRules(store, overrides));
      return;
    }
    if (action !== 'set' && action !== 'reset') throw new UsageError(action === undefined ? 'missing action: list, set or reset' : `unknown action ${action}`);
    if (ruleName === undefined) throw new UsageError(`rule ${action} needs a RULE`);
    if (!isRuleName(ruleName)) throw new UsageError(`unknown rule ${ruleName} (rules: ${RULE_NAMES.join(', ')})`);
    if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
    const scope = await resolveScope(store, values.tenant as string | undefined, values.site as string | undefined);
    if (action === 'reset') {
      if (!(await overrides.removeOverride(scope.scope, scope.ref, ruleName))) throw new RefusedError(`${ruleName} has no override for ${scope.label}`);
      out(`${ruleName} for ${scope.label}: back to the defaults`);
      return;
    }
    const change = overrideFromFlags(values);
    if (Object.keys(change).length === 0) throw new UsageError('nothing to set: give --severity, --for, --threshold, --codes, --window, --clear-after, --off or --on');
    const merged = await overrides.setOverride(scope.scope, scope.ref, ruleName, change);
    out(`${ruleName} for ${scope.label}: ${describeOverride(merged)}`);
  });
}

async function resolveScope(store: RelationalStore, tenant: string | undefined, siteRef: string | undefined): Promise<{ scope: 'tenant' | 'site'; ref: string; label: string }> {
  if (siteRef !== undefined) {
    const site = await store.findSite(siteRef, tenant);
    return { scope: 'site', ref: site.id, label: `site ${site.name} (tenant ${site.tenantName})` };
  }
  if (tenant === undefined) throw new UsageError('say where: --tenant T or --site S');
  const known = await store.db.selectFrom('tenants').select('name').where('name', '=', tenant).executeTakeFirst();
  if (!known) throw new RefusedError(`no tenant ${tenant}: see \`site list\``);
  return { scope: 'tenant', ref: tenant, label: `tenant ${tenant}` };
}

function overrideFromFlags(values: Record<string, string | boolean | undefined>): RuleOverride {
  if (values.off === true && values.on === true) throw new UsageError('--off and --on contradict each other');
  const raw: Record<string, unknown> = {};
  if (values.off === true) raw.enabled = false;
  if (values.on === true) raw.enabled = true;
  if (values.severity !== undefined) raw.severity = values.severity;
  if (values.for !== undefined) {
    const ms = parseDuration(String(values.for));
    if (ms === null) throw new UsageError('--for needs a duration like 0, 90s or 5m');
    raw.forMs = ms;
  }
  const number = (flag: string, key: string) => {
    if (values[flag] === undefined) return;
    const value = Number(values[flag]);
    if (!Number.isFinite(value)) throw new UsageError(`--${flag} needs a number`);
    raw[key] = value;
  };
  number('threshold', 'threshold');
  number('window', 'window');
  number('clear-after', 'clearAfter');
  if (values.codes !== undefined) raw.codes = values.codes;
  const parsed = ruleOverrideSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = { forMs: 'for', clearAfter: 'clear-after', enabled: 'off' }[String(issue?.path[0])] ?? String(issue?.path[0]);
    throw new UsageError(`--${flag} ${issue?.message ?? 'is invalid'}`);
  }
  return parsed.data;
}

function describeOverride(override: RuleOverride): string {
  return Object.entries(override)
    .map(([key, value]) => (key === 'forMs' ? `for ${formatDuration(value as number)}` : key === 'enabled' ? (value ? 'on' : 'off') : `${key} ${String(value)}`))
    .join(', ');
}

function describeSettings(settings: RuleSettings): string {
  const parts = [settings.enabled ? 'on' : 'off', `for ${formatDuration(settings.forMs)}`, `clear after ${settings.clearAfter}`];
  if (settings.threshold !== null) parts.push(`threshold ${settings.threshold}`);
  if (settings.codes !== null) parts.push(`codes ${settings.codes}`);
  if (settings.window !== null) parts.push(`window ${settings.window}`);
  return parts.join(', ');
}

async function formatRules(store: RelationalStore, overrides: RuleOverrideStore): Promise<string> {
  const all = await overrides.listOverrides();
  const sites = new Map((await store.listSites()).map((site) => [site.id, `site ${site.name} (tenant ${site.tenantName})`]));
  const rows = [['RULE', 'SEVERITY', 'DEFAULTS / OVERRIDE']];
  for (const rule of RULE_NAMES as readonly RuleName[]) {
    const settings = DEFAULT_RULE_SETTINGS[rule];
    rows.push([rule, settings.severity, describeSettings(settings)]);
    for (const o of all.filter((entry) => entry.rule === rule)) {
      rows.push(['', o.override.severity ?? '', `${o.scope === 'site' ? (sites.get(o.scopeRef) ?? `site ${o.scopeRef}`) : `tenant ${o.scopeRef}`}: ${describeOverride(o.override)}`]);
    }
  }
  return formatTable(rows);
}
