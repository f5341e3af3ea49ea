/** RuleOverrideStore: per-tenant and per-site rule overrides (`algwatch-server rule set`). */
import type { Kysely } from 'kysely';
import type { RelationalDatabase } from '../relational/schema.js';
import { isRuleName, ruleOverrideSchema, type RuleName, type RuleOverride } from './rule-settings.js';

export interface StoredRuleOverride {
  scope: 'tenant' | 'site';
  /** Tenant name, or site id. */
  scopeRef: string;
  rule: RuleName;
  override: RuleOverride;
}

export class RuleOverrideStore {
  constructor(private readonly db: Kysely<RelationalDatabase>) {}

  /** setOverride merges the given settings into the scope's override of the rule (creating it). */
  async setOverride(scope: 'tenant' | 'site', scopeRef: string, rule: RuleName, change: RuleOverride): Promise<RuleOverride> {
    const existing = await this.db
      .selectFrom('alert_rule_overrides')
      .select('settings')
      .where('scope', '=', scope)
      .where('scope_ref', '=', scopeRef)
      .where('rule', '=', rule)
      .executeTakeFirst();
    const merged = ruleOverrideSchema.parse({ ...(existing ? (JSON.parse(existing.settings) as object) : {}), ...change });
    const settings = JSON.stringify(merged);
    const updatedAt = new Date().toISOString();
    await this.db
      .insertInto('alert_rule_overrides')
      .values({ scope, scope_ref: scopeRef, rule, settings, updated_at: updatedAt })
      .onConflict((oc) => oc.columns(['scope', 'scope_ref', 'rule']).doUpdateSet({ settings, updated_at: updatedAt }))
      .execute();
    return merged;
  }

  /** removeOverride drops a scope's override of a rule (back to the defaults); false when there was none. */
  async removeOverride(scope: 'tenant' | 'site', scopeRef: string, rule: RuleName): Promise<boolean> {
    const result = await this.db
      .deleteFrom('alert_rule_overrides')
      .where('scope', '=', scope)
      .where('scope_ref', '=', scopeRef)
      .where('rule', '=', rule)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** listOverrides returns every override; a row edited by hand into something invalid is skipped. */
  async listOverrides(): Promise<StoredRuleOverride[]> {
    const rows = await this.db.selectFrom('alert_rule_overrides').selectAll().orderBy('scope').orderBy('scope_ref').orderBy('rule').execute();
    return rows.flatMap((row) => {
      const parsed = ruleOverrideSchema.safeParse(JSON.parse(row.settings));
      if (!parsed.success || !isRuleName(row.rule) || (row.scope !== 'tenant' && row.scope !== 'site')) return [];
      return [{ scope: row.scope, scopeRef: row.scope_ref, rule: row.rule, override: parsed.data }];
    });
  }
}
