/**
 * `algwatch-server site ...`: manage sites and their agent tokens.
 *
 *   site add NAME [--tenant NAME]     create a site (tenant `default` unless given) and its token
 *   site list                         one row per site: tenant, name, active tokens, agents, last seen
 *   site revoke NAME [--tenant NAME]  revoke every token of the site (its agents are refused)
 *
 * Every action also takes `--data-dir DIR` and `--database-url URL` (overriding the options the CLI
 * passes from ALGWATCH_* variables), and `add` takes `--server-url URL` for the printed command
 * (default http://<this hostname>:8080).
 *
 * `site add` prints exactly four lines on stdout; the last one is the token alone, so a script takes
 * it with `tail -n 1`; the third is the one-line install on a site box (deploy/install-agent.sh run
 * next to the packed agent, README "Installing the agent on a site box"):
 *
 *   created site NAME in tenant TENANT; the token is shown once, only its hash is kept
 *   algwatch-agent run --server http://HOST:8080 --token TOKEN
 *   sudo sh install-agent.sh --server http://HOST:8080 --token TOKEN
 *   TOKEN
 *
 * Exit codes: 0 done; 1 refused (site exists, unknown site, bad name), message on stderr; 2 bad
 * usage or the database could not be opened, one line on stderr.
 */
import { hostname } from 'node:os';
import { openRelationalStore } from '../relational/open.js';
import { RelationalError } from '../relational/relational-error.js';
import type { RelationalStore, SiteSummary } from '../relational/relational-store.js';
import { isSiteConfigAction, siteConfigCommand } from './site-config.js';

export const SITE_USAGE =
  'usage: site add NAME [--tenant NAME] [--server-url URL] | site list | site revoke NAME [--tenant NAME] (each also takes --data-dir DIR, --database-url URL)';

export interface SiteCommandOptions {
  dataDir: string;
  databaseUrl?: string;
  /** The URL agents reach this server at, for the printed agent command; default http://<hostname>:8080. */
  serverUrl?: string;
  /** Where output goes; process.stdout / process.stderr unless given (tests capture them). */
  stdout?: { write(text: string): unknown };
  stderr?: { write(text: string): unknown };
}

interface ParsedArgs {
  action: 'add' | 'list' | 'revoke';
  name?: string;
  tenant?: string;
  dataDir?: string;
  databaseUrl?: string;
  serverUrl?: string;
}

/** siteCommand runs `site <argv...>` (argv is what follows `site`) and resolves to the exit code. */
export async function siteCommand(argv: string[], options: SiteCommandOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  if (isSiteConfigAction(argv[0])) return siteConfigCommand(argv, options);
  const parsed = parseSiteArgs(argv);
  if (typeof parsed === 'string') {
    stderr.write(`algwatch-server site: ${parsed}; ${SITE_USAGE}\n`);
    return 2;
  }

  const dataDir = parsed.dataDir ?? options.dataDir;
  const databaseUrl = parsed.databaseUrl ?? options.databaseUrl;
  let store: RelationalStore;
  try {
    store = await openRelationalStore({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
  } catch (error) {
    stderr.write(`algwatch-server site: ${oneLine(error)}\n`);
    return 2;
  }
  try {
    switch (parsed.action) {
      case 'add': {
        const { site, token } = await store.createSite(parsed.name as string, parsed.tenant);
        const serverUrl = parsed.serverUrl ?? options.serverUrl ?? `http://${hostname()}:8080`;
        stdout.write(`created site ${site.name} in tenant ${site.tenantName}; the token is shown once, only its hash is kept\n`);
        stdout.write(`algwatch-agent run --server ${serverUrl} --token ${token}\n`);
        stdout.write(`${installCommand(serverUrl, token)}\n`);
        stdout.write(`${token}\n`);
        return 0;
      }
      case 'list':
        stdout.write(formatSiteTable(await store.listSites()));
        return 0;
      case 'revoke': {
        const { site, revoked } = await store.revokeSiteTokens(parsed.name as string, parsed.tenant);
        stdout.write(`revoked ${revoked} token${revoked === 1 ? '' : 's'} of site ${site.name} in tenant ${site.tenantName}\n`);
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof RelationalError) {
      stderr.write(`algwatch-server site: ${error.message}\n`);
      return 1;
    }
    stderr.write(`algwatch-server site: ${oneLine(error)}\n`);
    return 2;
  } finally {
    await store.close();
  }
}

/** Flags every action takes; they override the options the CLI passed in (from env and defaults). */
const STORE_FLAGS = { '--data-dir': 'dataDir', '--database-url': 'databaseUrl', '--server-url': 'serverUrl' } as const;
type StoreFlag = keyof typeof STORE_FLAGS;

/** parseSiteArgs returns the parsed command, or a one-line description of what is wrong. */
export function parseSiteArgs(argv: string[]): ParsedArgs | string {
  const [action, ...rest] = argv;
  if (action === undefined) return 'missing action: add, list or revoke';
  if (action !== 'add' && action !== 'list' && action !== 'revoke') return `unknown action ${action}`;
  const positional: string[] = [];
  const parsed: ParsedArgs = { action };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (!arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    const [flag = '', inline] = arg.split(/=(.*)/s, 2);
    if (flag !== '--tenant' && !(flag in STORE_FLAGS)) return `unknown option ${arg}`;
    if (flag === '--tenant' && action === 'list') return '--tenant is not an option of site list';
    const value = inline ?? rest[++i];
    if (value === undefined || value === '' || value.startsWith('-')) return `${flag} needs a value`;
    if (flag === '--tenant') parsed.tenant = value;
    else parsed[STORE_FLAGS[flag as StoreFlag]] = value;
  }
  if (action === 'list') return positional.length === 0 ? parsed : `site list takes no arguments, got ${positional.join(' ')}`;
  if (positional.length !== 1) return `site ${action} needs exactly one site NAME`;
  parsed.name = positional[0] as string;
  return parsed;
}

/** formatSiteTable renders `site list`: a header and one aligned row per site. */
export function formatSiteTable(sites: SiteSummary[]): string {
  if (sites.length === 0) return 'no sites yet: add one with `algwatch-server site add NAME`\n';
  const rows = [
    ['TENANT', 'SITE', 'TOKENS', 'AGENTS', 'LAST SEEN', 'CREATED'],
    ...sites.map((s) => [s.tenantName, s.name, String(s.activeTokens), String(s.agents), s.lastSeenAt ?? 'never', s.createdAt]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] as string).length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/**
 * installCommand is the one line a technician runs on a site box, in the directory holding
 * install-agent.sh and algwatch-agent-VERSION.tgz: it installs the agent as a systemd service.
 */
export function installCommand(serverUrl: string, token: string): string {
  return `sudo sh install-agent.sh --server ${serverUrl} --token ${token}`;
}
