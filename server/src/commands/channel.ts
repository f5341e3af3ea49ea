/**
 * `algwatch-server channel ...`: where alerts go.
 *
 *   channel add NAME --email ADDR[,ADDR...] --smtp-url smtp[s]://[user:pass@]HOST:PORT [--tenant T]
 *   channel add NAME --slack-url URL [--tenant T]
 *   channel add NAME --webhook-url URL --secret S [--tenant T]
 *   channel list                      kind, tenant, destination (secrets hidden), last delivery
 *   channel remove NAME
 *   channel test NAME [--smtp-from ADDR]   sends a test notification through the real notifier
 *
 * Every action also takes --data-dir DIR and --database-url URL (overriding ALGWATCH_DATA_DIR and
 * ALGWATCH_DATABASE_URL, as `site` does). A channel without --tenant gets every tenant's alerts.
 * Running servers read channels at each delivery, so changes count from the next notification on.
 *
 * Exit codes: 0 done (test: delivered); 1 refused (channel exists, unknown tenant or channel, test
 * not delivered), one line on stderr; 2 bad usage (malformed address or URL, missing --secret) or
 * the database could not be opened, one line on stderr. No output ever shows a secret.
 */
import { parseArgs } from 'node:util';
import { flagError } from '@algwatch/protocol/cli-flags';
import { ChannelError, ChannelStore, type Channel } from '../alerting/channels/channel-store.js';
import { channelTestNotification } from '../alerting/channels/channel-test-message.js';
import { deliver } from '../alerting/channels/deliver.js';
import { describeDestination, destinationProblem, type ChannelDestination } from '../alerting/channels/destination.js';
import { defaultSmtpFrom } from '../alerting/notifiers/email.js';
import { openRelationalStore } from '../relational/open.js';
import type { RelationalStore } from '../relational/relational-store.js';

export const CHANNEL_USAGE =
  'usage: channel add NAME (--email ADDR[,ADDR] --smtp-url smtp[s]://[user:pass@]HOST:PORT | --slack-url URL | --webhook-url URL --secret S) [--tenant T] | ' +
  'channel list | channel remove NAME | channel test NAME [--smtp-from ADDR] (each also takes --data-dir DIR, --database-url URL)';

export interface ChannelCommandOptions {
  dataDir: string;
  databaseUrl?: string;
  /** The From of test emails when --smtp-from is not given (ALGWATCH_SMTP_FROM); default algwatch@<hostname>. */
  smtpFrom?: string;
  /** How long `channel test` waits for the receiver; 10 s unless given (tests). */
  testTimeoutMs?: number;
  /** Extra CA certificates (PEM) trusted for SMTP TLS (tests; NODE_EXTRA_CA_CERTS in production). */
  smtpTlsCa?: string;
  stdout?: { write(text: string): unknown };
  stderr?: { write(text: string): unknown };
}

class UsageError extends Error {}

type ParsedCommand =
  | { action: 'add'; name: string; tenant?: string; destination: ChannelDestination }
  | { action: 'list' }
  | { action: 'remove'; name: string }
  | { action: 'test'; name: string; smtpFrom?: string };

const FLAGS = {
  tenant: { type: 'string' },
  email: { type: 'string' },
  'smtp-url': { type: 'string' },
  'slack-url': { type: 'string' },
  'webhook-url': { type: 'string' },
  secret: { type: 'string' },
  'smtp-from': { type: 'string' },
  'data-dir': { type: 'string' },
  'database-url': { type: 'string' },
} as const;
type FlagValues = Partial<Record<keyof typeof FLAGS, string>>;

/** Which flags each action takes, beyond --data-dir and --database-url. */
const ACTION_FLAGS: Record<ParsedCommand['action'], ReadonlyArray<keyof typeof FLAGS>> = {
  add: ['tenant', 'email', 'smtp-url', 'slack-url', 'webhook-url', 'secret'],
  list: [],
  remove: [],
  test: ['smtp-from'],
};

/** channelCommand runs `channel <argv...>` (argv is what follows `channel`) and resolves to the exit code. */
export async function channelCommand(argv: string[], options: ChannelCommandOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  let parsed: { command: ParsedCommand; values: FlagValues };
  try {
    parsed = parseChannelArgs(argv);
  } catch (error) {
    // flagError keeps node's "<value>" placeholder in "--secret <value> needs a value"; drop it.
    const problem = error instanceof UsageError ? error.message : flagError(error).replace(' <value>', '');
    stderr.write(`algwatch-server channel: ${problem}; ${CHANNEL_USAGE}\n`);
    return 2;
  }
  const { command, values } = parsed;
  const databaseUrl = values['database-url'] ?? options.databaseUrl;
  let relational: RelationalStore;
  try {
    relational = await openRelationalStore({ dataDir: values['data-dir'] ?? options.dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
  } catch (error) {
    stderr.write(`algwatch-server channel: ${oneLine(error)}\n`);
    return 2;
  }
  const store = new ChannelStore(relational.db);
  try {
    switch (command.action) {
      case 'add': {
        const channel = await store.add(command);
        stdout.write(`added ${channel.destination.kind} channel ${channel.name} for ${scope(channel)}: ${describeDestination(channel.destination)}; try it with \`algwatch-server channel test ${channel.name}\`\n`);
        return 0;
      }
      case 'list':
        stdout.write(formatChannelTable(await store.list()));
        return 0;
      case 'remove': {
        const channel = await store.remove(command.name);
        stdout.write(`removed ${channel.destination.kind} channel ${channel.name} (${scope(channel)})\n`);
        return 0;
      }
      case 'test': {
        const channel = await store.get(command.name);
        if (!channel) throw new ChannelError('CHANNEL_NOT_FOUND', `no channel ${command.name}: see \`channel list\``);
        const outcome = await deliver(channel, channelTestNotification(channel), {
          store,
          smtpFrom: command.smtpFrom ?? options.smtpFrom ?? defaultSmtpFrom(),
          // One attempt: the technician is waiting and wants the receiver's answer, not our retries.
          attempts: 1,
          attemptTimeoutMs: options.testTimeoutMs ?? 10_000,
          ...(options.smtpTlsCa ? { smtpTlsCa: options.smtpTlsCa } : {}),
        });
        if (outcome.delivered) {
          stdout.write(`channel ${channel.name}: test notification delivered to ${describeDestination(channel.destination)}\n`);
          return 0;
        }
        stderr.write(`algwatch-server channel: channel ${channel.name}: test notification not delivered: ${outcome.error}\n`);
        return 1;
      }
    }
  } catch (error) {
    stderr.write(`algwatch-server channel: ${oneLine(error)}\n`);
    return error instanceof ChannelError ? 1 : 2;
  } finally {
    await relational.close();
  }
}

/** parseChannelArgs reads the command line; throws UsageError (or parseArgs' error) with one line. */
export function parseChannelArgs(argv: string[]): { command: ParsedCommand; values: FlagValues } {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: FLAGS });
  const [action, ...rest] = positionals;
  if (action !== 'add' && action !== 'list' && action !== 'remove' && action !== 'test') {
    throw new UsageError(action === undefined ? 'missing action: add, list, remove or test' : `unknown action ${action}`);
  }
  const given = Object.keys(values).filter((flag) => flag !== 'data-dir' && flag !== 'database-url') as Array<keyof typeof FLAGS>;
  const foreign = given.find((flag) => !ACTION_FLAGS[action].includes(flag));
  if (foreign) throw new UsageError(`--${foreign} is not an option of channel ${action}`);
  if (action === 'list') {
    if (rest.length > 0) throw new UsageError(`channel list takes no arguments, got ${rest.join(' ')}`);
    return { command: { action }, values };
  }
  if (rest.length !== 1) throw new UsageError(`channel ${action} needs exactly one channel NAME`);
  const name = rest[0] as string;
  if (action === 'remove') return { command: { action, name }, values };
  if (action === 'test') return { command: { action, name, ...(values['smtp-from'] ? { smtpFrom: values['smtp-from'] } : {}) }, values };
  const destination = destinationOf(values);
  const problem = destinationProblem(destination);
  if (problem) throw new UsageError(problem);
  return { command: { action, name, destination, ...(values.tenant !== undefined ? { tenant: values.tenant } : {}) }, values };
}

function destinationOf(values: FlagValues): ChannelDestination {
  const kinds = (['email', 'slack-url', 'webhook-url'] as const).filter((flag) => values[flag] !== undefined);
  if (kinds.length !== 1) throw new UsageError('channel add needs exactly one of --email, --slack-url or --webhook-url');
  if (values['smtp-url'] !== undefined && kinds[0] !== 'email') throw new UsageError('--smtp-url goes with --email');
  if (values.secret !== undefined && kinds[0] !== 'webhook-url') throw new UsageError('--secret goes with --webhook-url');
  switch (kinds[0]) {
    case 'email': {
      if (values['smtp-url'] === undefined) throw new UsageError('--email needs --smtp-url smtp[s]://[user:pass@]HOST:PORT, the server that sends the mail');
      const to = (values.email as string).split(',').map((address) => address.trim());
      return { kind: 'email', to, smtpUrl: values['smtp-url'] };
    }
    case 'slack-url':
      return { kind: 'slack', url: values['slack-url'] as string };
    default:
      if (values.secret === undefined) throw new UsageError('--webhook-url needs --secret S, the key the receiver checks X-Algwatch-Signature with');
      return { kind: 'webhook', url: values['webhook-url'] as string, secret: values.secret };
  }
}

/** formatChannelTable renders `channel list`: one aligned row per channel, secrets hidden. */
export function formatChannelTable(channels: Channel[]): string {
  if (channels.length === 0) return 'no channels yet: add one with `algwatch-server channel add NAME --email ADDR --smtp-url URL` (or --slack-url, --webhook-url)\n';
  const rows = [
    ['NAME', 'KIND', 'TENANT', 'DESTINATION', 'LAST DELIVERED', 'FAILURES', 'LAST ERROR'],
    ...channels.map((channel) => [
      channel.name,
      channel.destination.kind,
      channel.tenant ?? '(all)',
      describeDestination(channel.destination),
      channel.delivery.lastSuccessAt ?? 'never',
      String(channel.delivery.failureCount),
      channel.delivery.lastError ? `${channel.delivery.lastFailureAt ?? ''} ${channel.delivery.lastError}`.trim() : '-',
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] as string).length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

function scope(channel: Channel): string {
  return channel.tenant === null ? 'every tenant' : `tenant ${channel.tenant}`;
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
