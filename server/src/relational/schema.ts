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
