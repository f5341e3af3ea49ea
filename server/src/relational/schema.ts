/**
 * The relational schema as Kysely sees it: one interface per table. Every column has the same type
 * on SQLite and PostgreSQL (text, integer), so one query layer serves both dialects: times are ISO
 * 8601 text (sortable, readable in psql and sqlite3 alike) and JSON columns are text.
 */
import type { ColumnType } from 'kysely';

export interface TenantsTable {
  id: string;
  name: string;
}

export interface SitesTable {
  id: string;
  tenant_id: string;
  name: string;
  created_at: string;
  /** When the schedule or targets last changed (ISO time); null until they ever do. */
  config_changed_at: string | null;
}

export interface AgentTokensTable {
  id: string;
  site_id: string;
  /** Hex SHA-256 of the token; the token itself is shown once and never stored. */
  token_hash: string;
  created_at: string;
  revoked_at: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface AgentsTable {
  /** The agentId the agent sent in its handshake; unique within its site only. */
  id: string;
  site_id: string;
  hostname: string;
  version: string;
  last_seen_at: string;
  /** JSON of the last heartbeat, null until the first one. */
  last_heartbeat: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface SeenResultsTable {
  site_id: string;
  result_id: string;
  received_at: string;
  /** Hex SHA-256 of the result's content as first stored (result-fingerprint.ts); null for rows older than 0007. */
  fingerprint: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface SiteTargetsTable {
  site_id: string;
  name: string;
  host: string;
  port: number;
  transport: string;
  keepalive: string;
}

export interface RunNowRequestsTable {
  id: string;
  site_id: string;
  /** JSON array of probe names. */
  probes: string;
  requested_at: string;
}

export interface SiteScheduleTable {
  site_id: string;
  /** JSON of a protocol Schedule. */
  schedule: string;
}

export interface UsersTable {
  id: string;
  /** The login name; unique across the server. */
  name: string;
  /** `scrypt$N$r$p$<salt b64url>$<hash b64url>` (see auth/password.ts). */
  password_hash: string;
  /** 'admin' | 'technician' | 'viewer'. */
  role: string;
  /** JSON array of tenant names the user is limited to; null means every tenant. */
  tenants: string | null;
  created_at: string;
}

export interface SessionsTable {
  /** Hex SHA-256 of the session cookie's secret; the secret itself is never stored. */
  id_hash: string;
  user_id: string;
  /** The token state-changing requests must echo (header x-csrf-token). */
  csrf_token: string;
  created_at: string;
  expires_at: string;
}

export interface AlertAcksTable {
  /** The alert's fingerprint (alerting's `alerts.fingerprint`). */
  fingerprint: string;
  /** The user's name. */
  acked_by: string;
  acked_at: string;
}

/** One alert per fingerprint (rule + site + target + transport); times ISO, lists and memory JSON. */
export interface AlertsTable {
  fingerprint: string;
  rule: string;
  tenant: string;
  site_id: string;
  site_name: string;
  agent: string | null;
  target: string | null;
  transport: string | null;
  severity: string;
  /** inactive | pending | firing | resolved */
  state: string;
  pending_since: string | null;
  starts_at: string | null;
  ends_at: string | null;
  episode: string | null;
  clean_count: number;
  last_active_at: string | null;
  recent_starts: string;
  summary: string;
  evidence: string;
  memory: string;
  updated_at: string;
}

export interface AlertHistoryTable {
  id: string;
  fingerprint: string;
  rule: string;
  severity: string;
  /** pending | firing | resolved */
  state: string;
  tenant: string;
  site_name: string;
  target: string | null;
  transport: string | null;
  summary: string;
  at: string;
}

/** The notification log: claim_key is unique, so one process claims each notification. */
export interface AlertNotificationsTable {
  claim_key: string;
  fingerprint: string;
  episode: string;
  state: string;
  tenant: string;
  site_name: string;
  claimed_at: string;
  delivered_at: string | null;
  /** The last delivery failure, one line without secrets; null once delivered. */
  failure: string | null;
}

export interface SilencesTable {
  id: string;
  tenant: string | null;
  site_id: string | null;
  site_name: string | null;
  rule: string | null;
  starts_at: string;
  ends_at: string;
  reason: string;
  created_at: string;
}

export interface AlertRuleOverridesTable {
  /** tenant | site */
  scope: string;
  /** The tenant name, or the site id. */
  scope_ref: string;
  rule: string;
  /** JSON of a RuleOverride. */
  settings: string;
  updated_at: string;
}

export interface NotificationChannelsTable {
  id: string;
  name: string;
  /** null: the channel gets every tenant's alerts. */
  tenant_id: string | null;
  kind: string;
  /** JSON of a ChannelDestination (alerting/channels/destination.ts), secrets included. */
  destination: string;
  created_at: string;
  last_success_at: ColumnType<string | null, string | null | undefined, string | null>;
  last_failure_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** The last failed delivery's one-line error (never a secret). */
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  /** Failed deliveries since the last successful one. */
  failure_count: ColumnType<number, number | undefined, number>;
}

export interface NotificationThreadsTable {
  channel_id: string;
  thread_id: string;
  started_at: string;
}

export interface RelationalDatabase {
  alerts: AlertsTable;
  alert_history: AlertHistoryTable;
  alert_notifications: AlertNotificationsTable;
  silences: SilencesTable;
  alert_rule_overrides: AlertRuleOverridesTable;
  tenants: TenantsTable;
  sites: SitesTable;
  agent_tokens: AgentTokensTable;
  agents: AgentsTable;
  seen_results: SeenResultsTable;
  site_targets: SiteTargetsTable;
  site_schedule: SiteScheduleTable;
  run_now_requests: RunNowRequestsTable;
  users: UsersTable;
  sessions: SessionsTable;
  alert_acks: AlertAcksTable;
  notification_channels: NotificationChannelsTable;
  notification_threads: NotificationThreadsTable;
}
