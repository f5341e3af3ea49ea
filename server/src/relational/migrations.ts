/**
 * The relational migrations, defined in code so the server binary carries its schema with it (no
 * migration folder to ship or find at run time). Migrations only ever get appended; a released one
 * is never edited. Each is plain DDL both SQLite and PostgreSQL accept.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';

const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('tenants')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('name', 'text', (col) => col.notNull().unique())
      .execute();

    await db.schema
      .createTable('sites')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('tenant_id', 'text', (col) => col.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('created_at', 'text', (col) => col.notNull())
      .addUniqueConstraint('sites_tenant_name_unique', ['tenant_id', 'name'])
      .execute();

    await db.schema
      .createTable('agent_tokens')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('site_id', 'text', (col) => col.notNull().references('sites.id').onDelete('cascade'))
      .addColumn('token_hash', 'text', (col) => col.notNull().unique())
      .addColumn('created_at', 'text', (col) => col.notNull())
      .addColumn('revoked_at', 'text')
      .execute();
    await db.schema.createIndex('agent_tokens_site_idx').on('agent_tokens').column('site_id').execute();

    await db.schema
      .createTable('agents')
      .addColumn('id', 'text', (col) => col.notNull())
      .addColumn('site_id', 'text', (col) => col.notNull().references('sites.id').onDelete('cascade'))
      .addColumn('hostname', 'text', (col) => col.notNull())
      .addColumn('version', 'text', (col) => col.notNull())
      .addColumn('last_seen_at', 'text', (col) => col.notNull())
      .addColumn('last_heartbeat', 'text')
      .addPrimaryKeyConstraint('agents_pk', ['site_id', 'id'])
      .execute();

    // Keyed by site too: a result id another site already used can never make this site's result
    // look like a resend (ids come from agents, so the server must not trust them across sites).
    await db.schema
      .createTable('seen_results')
      .addColumn('site_id', 'text', (col) => col.notNull().references('sites.id').onDelete('cascade'))
      .addColumn('result_id', 'text', (col) => col.notNull())
      .addColumn('received_at', 'text', (col) => col.notNull())
      .addPrimaryKeyConstraint('seen_results_pk', ['site_id', 'result_id'])
      .execute();
    await db.schema.createIndex('seen_results_received_idx').on('seen_results').column('received_at').execute();

    await db.schema
      .createTable('site_targets')
      .addColumn('site_id', 'text', (col) => col.notNull().references('sites.id').onDelete('cascade'))
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('host', 'text', (col) => col.notNull())
      .addColumn('port', 'integer', (col) => col.notNull())
      .addColumn('transport', 'text', (col) => col.notNull())
      .addColumn('keepalive', 'text', (col) => col.notNull())
      .addPrimaryKeyConstraint('site_targets_pk', ['site_id', 'name'])
      .execute();

    await db.schema
      .createTable('site_schedule')
      .addColumn('site_id', 'text', (col) => col.primaryKey().references('sites.id').onDelete('cascade'))
      .addColumn('schedule', 'text', (col) => col.notNull())
      .execute();
  },
};

// A site's schedule and targets are edited by `algwatch-server site ...` in another process (or
// by another server sharing PostgreSQL); running servers find what changed by this stamp and push it.
const configChangeStamp: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('sites').addColumn('config_changed_at', 'text').execute();
  },
};

// "Run now" asked by an operator (`site run-now`) in another process; servers holding the site's
// agents pick requests up by time, like config changes, and forward them.
const runNowRequests: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('run_now_requests')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('site_id', 'text', (col) => col.notNull().references('sites.id').onDelete('cascade'))
      .addColumn('probes', 'text', (col) => col.notNull())
      .addColumn('requested_at', 'text', (col) => col.notNull())
      .execute();
    await db.schema.createIndex('run_now_requests_time_idx').on('run_now_requests').column('requested_at').execute();
  },
};

// Dashboard logins: users (role, the tenants they are limited to) and their sessions. A session row
// holds only the hash of the cookie's secret, so a leaked database does not log anyone in. And the
// dashboard's acknowledgements of alerts.
const usersSessions: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('name', 'text', (col) => col.notNull().unique())
      .addColumn('password_hash', 'text', (col) => col.notNull())
      .addColumn('role', 'text', (col) => col.notNull())
      .addColumn('tenants', 'text')
      .addColumn('created_at', 'text', (col) => col.notNull())
      .execute();
    await db.schema
      .createTable('sessions')
      .addColumn('id_hash', 'text', (col) => col.primaryKey())
      .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
      .addColumn('csrf_token', 'text', (col) => col.notNull())
      .addColumn('created_at', 'text', (col) => col.notNull())
      .addColumn('expires_at', 'text', (col) => col.notNull())
      .execute();
    await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();
    await db.schema.createIndex('sessions_expires_idx').on('sessions').column('expires_at').execute();
    // A user's "I am on it" for a firing alert, by the alert's fingerprint; it holds for the episode
    // it was given in (an alert firing again after it resolved is not acknowledged).
    await db.schema
      .createTable('alert_acks')
      .addColumn('fingerprint', 'text', (col) => col.primaryKey())
      .addColumn('acked_by', 'text', (col) => col.notNull())
      .addColumn('acked_at', 'text', (col) => col.notNull())
      .execute();
  },
};

// Alerting: one row per alert fingerprint (its state survives restarts and is shared by servers on
// one PostgreSQL), the history of state changes, the notification log whose primary key makes each
// notification claimable once across processes, silences, and per-tenant/per-site rule overrides.
const alerting: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('alerts')
      .addColumn('fingerprint', 'text', (col) => col.primaryKey())
      .addColumn('rule', 'text', (col) => col.notNull())
      .addColumn('tenant', 'text', (col) => col.notNull())
      .addColumn('site_id', 'text', (col) => col.notNull().references('sites.id').onDelete('cascade'))
      .addColumn('site_name', 'text', (col) => col.notNull())
      .addColumn('agent', 'text')
      .addColumn('target', 'text')
      .addColumn('transport', 'text')
      .addColumn('severity', 'text', (col) => col.notNull())
      .addColumn('state', 'text', (col) => col.notNull())
      .addColumn('pending_since', 'text')
      .addColumn('starts_at', 'text')
      .addColumn('ends_at', 'text')
      .addColumn('episode', 'text')
      .addColumn('clean_count', 'integer', (col) => col.notNull())
      .addColumn('last_active_at', 'text')
      .addColumn('recent_starts', 'text', (col) => col.notNull())
      .addColumn('summary', 'text', (col) => col.notNull())
      .addColumn('evidence', 'text', (col) => col.notNull())
      .addColumn('memory', 'text', (col) => col.notNull())
      .addColumn('updated_at', 'text', (col) => col.notNull())
      .execute();
    await db.schema.createIndex('alerts_site_idx').on('alerts').column('site_id').execute();
    await db.schema.createIndex('alerts_state_idx').on('alerts').column('state').execute();

    await db.schema
      .createTable('alert_history')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('fingerprint', 'text', (col) => col.notNull())
      .addColumn('rule', 'text', (col) => col.notNull())
      .addColumn('severity', 'text', (col) => col.notNull())
      .addColumn('state', 'text', (col) => col.notNull())
      .addColumn('tenant', 'text', (col) => col.notNull())
      .addColumn('site_name', 'text', (col) => col.notNull())
      .addColumn('target', 'text')
      .addColumn('transport', 'text')
      .addColumn('summary', 'text', (col) => col.notNull())
      .addColumn('at', 'text', (col) => col.notNull())
      .execute();
    await db.schema.createIndex('alert_history_at_idx').on('alert_history').column('at').execute();

    await db.schema
      .createTable('alert_notifications')
      .addColumn('claim_key', 'text', (col) => col.primaryKey())
      .addColumn('fingerprint', 'text', (col) => col.notNull())
      .addColumn('episode', 'text', (col) => col.notNull())
      .addColumn('state', 'text', (col) => col.notNull())
      .addColumn('tenant', 'text', (col) => col.notNull())
      .addColumn('site_name', 'text', (col) => col.notNull())
      .addColumn('claimed_at', 'text', (col) => col.notNull())
      .addColumn('delivered_at', 'text')
      .addColumn('failure', 'text')
      .execute();
    await db.schema.createIndex('alert_notifications_episode_idx').on('alert_notifications').columns(['fingerprint', 'episode']).execute();

    await db.schema
      .createTable('silences')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('tenant', 'text')
      .addColumn('site_id', 'text', (col) => col.references('sites.id').onDelete('cascade'))
      .addColumn('site_name', 'text')
      .addColumn('rule', 'text')
      .addColumn('starts_at', 'text', (col) => col.notNull())
      .addColumn('ends_at', 'text', (col) => col.notNull())
      .addColumn('reason', 'text', (col) => col.notNull())
      .addColumn('created_at', 'text', (col) => col.notNull())
      .execute();

    await db.schema
      .createTable('alert_rule_overrides')
      .addColumn('scope', 'text', (col) => col.notNull())
      .addColumn('scope_ref', 'text', (col) => col.notNull())
      .addColumn('rule', 'text', (col) => col.notNull())
      .addColumn('settings', 'text', (col) => col.notNull())
      .addColumn('updated_at', 'text', (col) => col.notNull())
      .addPrimaryKeyConstraint('alert_rule_overrides_pk', ['scope', 'scope_ref', 'rule'])
      .execute();
  },
};

// Where alerts go (`algwatch-server channel add`), each channel's last delivery outcome, and which
// email threads already had their first message (so exactly one mail per thread carries its Message-ID).
const notificationChannels: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('notification_channels')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('name', 'text', (col) => col.notNull().unique())
      // null: the channel gets every tenant's alerts.
      .addColumn('tenant_id', 'text', (col) => col.references('tenants.id').onDelete('cascade'))
      .addColumn('kind', 'text', (col) => col.notNull())
      .addColumn('destination', 'text', (col) => col.notNull())
      .addColumn('created_at', 'text', (col) => col.notNull())
      .addColumn('last_success_at', 'text')
      .addColumn('last_failure_at', 'text')
      .addColumn('last_error', 'text')
      .addColumn('failure_count', 'integer', (col) => col.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('notification_channels_tenant_idx').on('notification_channels').column('tenant_id').execute();

    await db.schema
      .createTable('notification_threads')
      .addColumn('channel_id', 'text', (col) => col.notNull().references('notification_channels.id').onDelete('cascade'))
      .addColumn('thread_id', 'text', (col) => col.notNull())
      .addColumn('started_at', 'text', (col) => col.notNull())
      .addPrimaryKeyConstraint('notification_threads_pk', ['channel_id', 'thread_id'])
      .execute();
  },
};

// A content fingerprint beside each seen result id, so a second result reusing a known id with other
// content (startedAt, target, points...) is refused instead of adding rows. Rows from before this
// migration keep null: their resends are accepted as duplicates, as they were.
const resultFingerprints: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('seen_results').addColumn('fingerprint', 'text').execute();
  },
};

/** relationalMigrations is the ordered set the Migrator applies on open; names sort in order. */
export const relationalMigrations: MigrationProvider = {
  getMigrations: () =>
    Promise.resolve({
      '0001_initial': initial,
      '0002_config_change_stamp': configChangeStamp,
      '0003_run_now_requests': runNowRequests,
      '0004_alerting': alerting,
      '0005_notification_channels': notificationChannels,
      '0006_users_sessions': usersSessions,
      '0007_result_fingerprints': resultFingerprints,
    }),
};
