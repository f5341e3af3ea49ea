/**
 * `algwatch-server site target|schedule|show`: what a site's agents probe and when. Changes land in
 * the relational store; running servers push them to connected agents within seconds.
 *
 *   site target add SITE NAME HOST[:PORT] [--transport udp|tcp|tls] [--keepalive options|crlf|both]
 *   site target remove SITE NAME
 *   site schedule SITE [--sip-alg CRON] [--stun-mapping CRON] [--nat-behavior CRON]
 *                      [--binding-lifetime CRON] [--keepalive CRON] [--rtp-path CRON]      ("" turns a probe off)
 *   site show SITE
 *   site run-now SITE [--probes sip-alg,stun-mapping,...]   (default: the quick probes)
 * Each also takes --tenant NAME, --data-dir DIR and --database-url URL.
 */
import { parseArgs } from 'node:util';
import cron from 'node-cron';
import { flagError } from '@algwatch/protocol/cli-flags';
import { PROBE_NAMES, sipTargetSchema, type ProbeName, type Schedule, type SipTarget } from '@algwatch/protocol/events';
import { openRelationalStore } from '../relational/open.js';
import { RelationalError } from '../relational/relational-error.js';
import type { AgentRecord } from '../relational/relational-store.js';
import type { SiteCommandOptions } from './site.js';

export const SITE_CONFIG_USAGE =
  'site target add SITE NAME HOST[:PORT] [--transport udp|tcp|tls] [--keepalive options|crlf|both] | site target remove SITE NAME | ' +
  'site schedule SITE [--sip-alg CRON] [--stun-mapping CRON] [--nat-behavior CRON] [--binding-lifetime CRON] [--keepalive CRON] [--rtp-path CRON] | site show SITE | site run-now SITE [--probes NAME,...]';

const SCHEDULE_FLAGS = {
  'sip-alg': 'sipAlg',
  'stun-mapping': 'stunMapping',
  'nat-behavior': 'natBehavior',
  'binding-lifetime': 'bindingLifetime',
  keepalive: 'keepalive',
  'rtp-path': 'rtpPath',
} as const satisfies Record<string, keyof Schedule>;

class UsageError extends Error {}

/** isSiteConfigAction tells whether `site <action>` belongs to this command. */
export function isSiteConfigAction(action: string | undefined): boolean {
  return action === 'target' || action === 'schedule' || action === 'show' || action === 'run-now';
}

/** siteConfigCommand runs `site target|schedule|show ...`; 0 done, 1 refused, 2 bad usage or no database. */
export async function siteConfigCommand(argv: string[], options: SiteCommandOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    stderr.write(`algwatch-server site: ${err instanceof UsageError ? err.message : flagError(err)}; usage: ${SITE_CONFIG_USAGE}\n`);
    return 2;
  }
  const databaseUrl = parsed.values['database-url'] ?? options.databaseUrl;
  let store;
  try {
    store = await openRelationalStore({ dataDir: parsed.values['data-dir'] ?? options.dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
  } catch (err) {
    stderr.write(`algwatch-server site: ${(err as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  try {
    const site = await store.findSite(parsed.site, parsed.values.tenant);
    const config = await store.getAgentConfig(site.id);
    switch (parsed.action) {
      case 'target add': {
        const target = parsed.target!;
        const targets = [...config.targets.filter((existing) => existing.name !== target.name), target];
        await store.setSiteTargets(site.id, targets);
        stdout.write(`site ${site.name}: keep-alive target ${describeTarget(target)} saved; connected agents get it within seconds\n`);
        return 0;
      }
      case 'target remove': {
        const remaining = config.targets.filter((existing) => existing.name !== parsed.targetName);
        if (remaining.length === config.targets.length) {
          stderr.write(`algwatch-server site: site ${site.name} has no target named ${parsed.targetName}\n`);
          return 1;
        }
        await store.setSiteTargets(site.id, remaining);
        stdout.write(`site ${site.name}: target ${parsed.targetName} removed\n`);
        return 0;
      }
      case 'schedule': {
        const schedule = { ...config.schedule, ...parsed.schedule };
        await store.setSiteSchedule(site.id, schedule);
        stdout.write(`site ${site.name}: schedule saved\n${formatSchedule(schedule)}`);
        return 0;
      }
      case 'run-now':
        await store.requestRunNow(site.id, parsed.probes);
        stdout.write(`site ${site.name}: asked its connected agents to run ${parsed.probes.join(', ')} now (within ~5 s)\n`);
        return 0;
      case 'show':
        stdout.write(`site ${site.name} (tenant ${site.tenantName})\nschedule:\n${formatSchedule(config.schedule)}targets:\n`);
        stdout.write(config.targets.length === 0 ? '  none (add one with `site target add`)\n' : config.targets.map((t) => `  ${describeTarget(t)}\n`).join(''));
        {
          const agents = await store.listAgents(site.id);
          stdout.write('agents:\n');
          stdout.write(agents.length === 0 ? '  none has connected yet\n' : agents.map((agent) => `  ${describeAgent(agent, Date.now())}\n`).join(''));
        }
        return 0;
    }
  } catch (err) {
    stderr.write(`algwatch-server site: ${(err as Error).message.split('\n')[0]}\n`);
    return err instanceof RelationalError && err.code !== 'DATABASE_UNREACHABLE' ? 1 : 2;
  } finally {
    await store.close();
  }
}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      tenant: { type: 'string' },
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      transport: { type: 'string' },
      keepalive: { type: 'string' },
      probes: { type: 'string' },
      ...Object.fromEntries(Object.keys(SCHEDULE_FLAGS).filter((flag) => flag !== 'keepalive').map((flag) => [flag, { type: 'string' as const }])),
    },
  });
  const [action, ...rest] = positionals;
  if (action === 'show') {
    if (rest.length !== 1) throw new UsageError('site show needs exactly one SITE');
    return { action: 'show' as const, site: rest[0]!, values };
  }
  if (action === 'run-now') {
    if (rest.length !== 1) throw new UsageError('site run-now needs exactly one SITE');
    const probes = (values.probes ?? 'sip-alg,stun-mapping,nat-behavior').split(',').map((name) => name.trim());
    const unknown = probes.filter((name) => !(PROBE_NAMES as readonly string[]).includes(name));
    if (unknown.length > 0) throw new UsageError(`unknown probe ${unknown.join(', ')}; known: ${PROBE_NAMES.join(', ')}`);
    return { action: 'run-now' as const, site: rest[0]!, probes: probes as ProbeName[], values };
  }
  if (action === 'schedule') {
    if (rest.length !== 1) throw new UsageError('site schedule needs exactly one SITE');
    const schedule: Partial<Schedule> = {};
    for (const [flag, key] of Object.entries(SCHEDULE_FLAGS)) {
      const expression = (values as Record<string, string | undefined>)[flag];
      if (expression === undefined) continue;
      if (expression !== '' && !cron.validate(expression)) throw new UsageError(`--${flag} "${expression}" is not a cron expression (e.g. "*/5 * * * *", or "" to turn it off)`);
      schedule[key] = expression;
    }
    if (Object.keys(schedule).length === 0) throw new UsageError('site schedule needs at least one of --sip-alg, --stun-mapping, --nat-behavior, --binding-lifetime, --keepalive, --rtp-path');
    return { action: 'schedule' as const, site: rest[0]!, schedule, values };
  }
  const [verb, site, name, hostPort] = rest;
  if (action !== 'target' || (verb !== 'add' && verb !== 'remove')) throw new UsageError(`unknown action ${[action, verb].filter(Boolean).join(' ')}`);
  if (verb === 'remove') {
    if (!site || !name || rest.length !== 3) throw new UsageError('site target remove needs SITE and NAME');
    return { action: 'target remove' as const, site, targetName: name, values };
  }
  if (!site || !name || !hostPort || rest.length !== 4) throw new UsageError('site target add needs SITE, NAME and HOST[:PORT]');
  const transport = values.transport ?? 'udp';
  const [host, port] = splitHostPort(hostPort, transport === 'tls' ? 5061 : 5060);
  const checked = sipTargetSchema.safeParse({ name, host, port, transport, keepalive: values.keepalive ?? (transport === 'udp' ? 'options' : 'both') });
  if (!checked.success) throw new UsageError(checked.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  if (checked.data.transport === 'udp' && checked.data.keepalive !== 'options') throw new UsageError('CRLF keep-alives need --transport tcp or tls');
  return { action: 'target add' as const, site, target: checked.data, values };
}

function splitHostPort(text: string, defaultPort: number): [string, number] {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return [bracketed[1]!, bracketed[2] ? Number(bracketed[2]) : defaultPort];
  const parts = text.split(':');
  if (parts.length === 2) return [parts[0]!, Number(parts[1])];
  return [text, defaultPort];
}

function describeTarget(target: SipTarget): string {
  return `${target.name} ${target.host}:${target.port}/${target.transport} (keep-alive: ${target.keepalive})`;
}

/**
 * describeAgent is one line a technician reads to see whether a site's agent is alive and healthy:
 * when it was last heard of, and from its last heartbeat how many results wait in its outbox (a
 * growing number means they are not getting through) and how much memory it uses.
 */
export function describeAgent(agent: AgentRecord, nowMs: number): string {
  const parts = [`${agent.id}`];
  if (agent.version) parts.push(`v${agent.version}`);
  if (agent.hostname) parts.push(`on ${agent.hostname}`);
  parts.push(`last seen ${duration(nowMs - Date.parse(agent.lastSeenAt))} ago`);
  const beat = agent.lastHeartbeat;
  if (beat) {
    parts.push(`outbox ${beat.outboxDepth} result${beat.outboxDepth === 1 ? '' : 's'}`);
    parts.push(`RSS ${Math.round(beat.rssBytes / 1e6)} MB`);
    parts.push(`up ${duration(beat.uptimeS * 1000)}`);
  }
  return parts.join(', ');
}

/** duration says a span in the one unit a person reads at a glance: 25 s, 14 min, 5 h, 3 d. */
function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

function formatSchedule(schedule: Schedule): string {
  return Object.entries(SCHEDULE_FLAGS)
    .map(([flag, key]) => `  ${flag.padEnd(17)}${schedule[key] === '' ? 'off' : schedule[key]}\n`)
    .join('');
}
