/**
 * The Grafana dashboards and the compose deployment, checked against what they depend on:
 * every InfluxQL query names only measurements, fields and tags of protocol/src/measurements.ts
 * (or the hourly rollup's columns), the committed JSON is what dashboards/src generates, every
 * query runs on a real influxd holding points written by the server's own InfluxTimeSeriesStore
 * and the key panels return the rows a technician expects, and docker-compose.yml wires the
 * provisioning, the database and the server flags together. Docker itself is not run here.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_TAGS, MEASUREMENTS, type MeasurementName } from '@algwatch/protocol/measurements';
import { parseServerConfig } from '../server/src/config.js';
import { rollupQueries, trueCountSelect } from '../server/src/storage/influx-schema.js';
import { InfluxTimeSeriesStore } from '../server/src/storage/influx-store.js';
import type { StoredPoint } from '../server/src/storage/time-series.js';
import { DATASOURCE, type Dashboard } from '../dashboards/src/grafana.js';
import { renderDashboards } from '../dashboards/src/render.js';
import { startInfluxd, type RunningInfluxd } from './helpers/influxd.js';
import { severityOfColor, thresholdColor } from './helpers/grafana-thresholds.js';
import { bindingLifetimeSeverity } from '@algwatch/protocol/findings/index';

const root = fileURLToPath(new URL('../', import.meta.url));
const jsonDir = join(root, 'dashboards/json');

async function committedDashboards(): Promise<Map<string, Dashboard>> {
  const files = new Map<string, Dashboard>();
  for (const name of (await readdir(jsonDir)).filter((file) => file.endsWith('.json')).sort()) {
    files.set(name, JSON.parse(await readFile(join(jsonDir, name), 'utf8')) as Dashboard);
  }
  return files;
}

/** DashboardQuery is one InfluxQL string of a dashboard: a panel target or a variable. */
interface DashboardQuery {
  where: string;
  panel: string;
  refId: string;
  query: string;
}

function queriesOf(dashboard: Dashboard): DashboardQuery[] {
  const variables = dashboard.templating.list.map((variable) => ({ where: `${dashboard.title} / $${variable.name}`, panel: `$${variable.name}`, refId: '', query: variable.query }));
  const targets = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ where: `${dashboard.title} / ${panel.title} / ${target.refId}`, panel: panel.title, refId: target.refId, query: target.query })),
  );
  return [...variables, ...targets];
}

// ---------- (a) names against the schema ----------

const KEYWORDS = new Set(
  'select from where and or as group by order desc asc limit fill none null previous true false time show tag values with key last mean count sum min max'.split(' '),
);

/** QueryNames is what an InfluxQL string refers to, read from its tokens. */
interface QueryNames {
  sources: { retentionPolicy: string | undefined; measurement: string }[];
  references: string[];
  aliases: string[];
  tagKeys: string[];
  unknownWords: string[];
}

/**
 * namesIn tokenises a query (double-quoted identifiers, strings, regexes, variables, words) and
 * sorts the identifiers: after FROM a source (`"rp"."m"`), after AS an alias, after KEY = a tag
 * key, anything else a field or tag reference. A bare word must be a keyword or function: the
 * dashboards quote every identifier, so a bare name is a mistake the schema check would miss.
 */
function namesIn(query: string): QueryNames {
  const tokens = query.match(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\/(?:[^/\\]|\\.)+\/|\$\w+|[A-Za-z_]\w*|\d+[a-z]*|\S/g) ?? [];
  const names: QueryNames = { sources: [], references: [], aliases: [], tagKeys: [], unknownWords: [] };
  const unquote = (token: string) => token.slice(1, -1).replace(/\\(.)/g, '$1');
  const word = (index: number) => tokens[index]?.toLowerCase();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (/^[A-Za-z_]/.test(token)) {
      if (!KEYWORDS.has(token.toLowerCase())) names.unknownWords.push(token);
    } else if (token.startsWith('"')) {
      if (word(i - 1) === 'as') names.aliases.push(unquote(token));
      else if (word(i - 1) === 'key' || (word(i - 1) === '=' && word(i - 2) === 'key')) names.tagKeys.push(unquote(token));
      else if (word(i - 1) === 'from') {
        if (tokens[i + 1] === '.' && tokens[i + 2]?.startsWith('"')) {
          names.sources.push({ retentionPolicy: unquote(token), measurement: unquote(tokens[i + 2]!) });
          i += 2;
        } else names.sources.push({ retentionPolicy: undefined, measurement: unquote(token) });
      } else names.references.push(unquote(token));
    }
  }
  return names;
}

/** hourlyColumns reads the columns each hourly continuous query writes (`AS "<f>_mean"` …) from the server's own definitions. */
function hourlyColumns(): Map<string, Set<string>> {
  const columns = new Map<string, Set<string>>();
  for (const { select } of rollupQueries('algwatch')) {
    const measurement = /INTO "algwatch"\."hourly"\."(\w+)"/.exec(select)![1]!;
    const set = columns.get(measurement) ?? new Set<string>();
    for (const match of select.matchAll(/ AS "(\w+)"/g)) set.add(match[1]!);
    columns.set(measurement, set);
  }
  return columns;
}

/** schemaProblems lists, one line each, every name in a query the schema does not have. */
function schemaProblems(query: string): string[] {
  const names = namesIn(query);
  const problems = names.unknownWords.map((word) => `bare word ${word} (quote identifiers)`);
  const allTags = new Set<string>([...INGEST_TAGS, ...Object.values(MEASUREMENTS).flatMap((schema) => schema.tags)]);
  const hourly = hourlyColumns();
  const allowedPerSource: Set<string>[] = [];
  for (const { retentionPolicy, measurement } of names.sources) {
    if (!Object.hasOwn(MEASUREMENTS, measurement)) {
      problems.push(`unknown measurement ${measurement}`);
      continue;
    }
    const schema = MEASUREMENTS[measurement as MeasurementName];
    const tags = [...INGEST_TAGS, ...schema.tags];
    if (retentionPolicy === 'raw') allowedPerSource.push(new Set([...tags, ...Object.keys(schema.fields)]));
    else if (retentionPolicy === 'hourly') allowedPerSource.push(new Set([...tags, ...hourly.get(measurement)!]));
    else problems.push(`${measurement} read without the raw or hourly retention policy`);
  }
  for (const key of names.tagKeys) if (!allTags.has(key)) problems.push(`unknown tag key ${key}`);
  const isShow = /^\s*SHOW\b/i.test(query);
  if (!isShow && names.sources.length === 0) problems.push('no measurement in FROM');
  for (const name of names.references) {
    if (names.aliases.includes(name)) continue;
    const known = isShow ? allTags.has(name) : allowedPerSource.length > 0 && allowedPerSource.every((allowed) => allowed.has(name));
    if (!known) problems.push(`unknown field or tag ${name}`);
  }
  return problems;
}

describe('dashboard queries against the measurement schema', () => {
  it('finds a misspelt field, an unknown measurement and a bare identifier', () => {
    expect(schemaProblems('SELECT last("alg_detect") FROM "raw"."sip_alg" WHERE $timeFilter')).toEqual(['unknown field or tag alg_detect']);
    expect(schemaProblems('SELECT mean("rtt_ms") FROM "raw"."sip_algs"')).toEqual(['unknown measurement sip_algs', 'unknown field or tag rtt_ms']);
    expect(schemaProblems('SELECT mean(rtt_ms) FROM "raw"."sip_alg"')).toEqual(['bare word rtt_ms (quote identifiers)']);
    expect(schemaProblems('SELECT sum("alg_detected_mean") FROM "hourly"."sip_alg"')).toEqual(['unknown field or tag alg_detected_mean']);
    expect(schemaProblems('SELECT "public_port" FROM "raw"."stun_mapping" GROUP BY "transport"')).toEqual(['unknown field or tag transport']);
    expect(schemaProblems('SHOW TAG VALUES WITH KEY = "tenants"')).toEqual(['unknown tag key tenants']);
  });

  it('names only measurements, fields and tags the schema has in every dashboard query', async () => {
    const dashboards = await committedDashboards();
    expect([...dashboards.keys()]).toEqual(['algwatch-alerts.json', 'algwatch-fleet.json', 'algwatch-site.json']);
    const problems = [...dashboards.values()].flatMap((dashboard) => queriesOf(dashboard).flatMap((q) => schemaProblems(q.query).map((problem) => `${q.where}: ${problem}`)));
    expect(problems).toEqual([]);
  });

  it('points every panel and variable at the provisioned InfluxDB datasource', async () => {
    for (const dashboard of (await committedDashboards()).values()) {
      for (const panel of dashboard.panels) {
        expect(panel.datasource, panel.title).toEqual(DATASOURCE);
        for (const target of panel.targets ?? []) expect(target.datasource, panel.title).toEqual(DATASOURCE);
      }
      for (const variable of dashboard.templating.list) expect(variable.datasource).toEqual(DATASOURCE);
      expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(['tenant', 'site']);
    }
  });
});

// ---------- (b) committed JSON = generated JSON ----------

describe('generated dashboard JSON', () => {
  it('is committed exactly as dashboards/src generates it (regenerate: npx tsx dashboards/src/build.ts)', async () => {
    const generated = renderDashboards();
    const committed = (await readdir(jsonDir)).filter((file) => file.endsWith('.json')).sort();
    expect(committed).toEqual([...generated.keys()].sort());
    for (const [name, text] of generated) expect(await readFile(join(jsonDir, name), 'utf8'), name).toBe(text);
  });
});

// ---------- (c) every query on a real influxd ----------

interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Row is one result row with the series' tags merged in, as Grafana's table format shows it. */
type Row = Record<string, unknown>;

describe('dashboard queries on a real InfluxDB', () => {
  let influxd: RunningInfluxd;
  let dataDir: string;
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  const ago = (minutes: number) => now - minutes * 60_000;
  const range = { fromMs: ago(180), toMs: now + 60_000 };

  beforeAll(async () => {
    influxd = await startInfluxd();
    dataDir = await mkdtemp(join(tmpdir(), 'algwatch-dashboards-'));
    const store = new InfluxTimeSeriesStore({ url: `${influxd.url}/algwatch`, dataDir, flushIntervalMs: 5 });
    await store.start();
    await store.write(fleetPoints(ago));
    await store.close();
    expect(store.state).toBe('direct');
    // What the hourly continuous query would have written by now (it runs on influxd's own clock).
    await influxql(trueCountSelect('algwatch', 'sip_alg', 'alg_detected', ` WHERE time >= ${range.fromMs}ms AND time <= ${range.toMs}ms`));
  });
  afterAll(async () => {
    await influxd?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function influxql(q: string): Promise<Series[]> {
    const res = await fetch(`${influxd.url}/query?${new URLSearchParams({ db: 'algwatch', q, epoch: 'ms' })}`, { method: 'POST' });
    const body = (await res.json()) as { error?: string; results?: { series?: Series[]; error?: string }[] };
    const error = body.error ?? body.results?.[0]?.error;
    if (error) throw new Error(`InfluxDB: ${error} in ${q}`);
    return body.results?.[0]?.series ?? [];
  }

  /** concrete substitutes Grafana's variables the way Grafana's InfluxDB datasource does. */
  function concrete(query: string, variables: { tenant: string[]; site: string[] }, interval = '10m'): string {
    const text = query
      .replaceAll('$timeFilter', `time >= ${range.fromMs}ms and time <= ${range.toMs}ms`)
      .replaceAll('$__interval', interval)
      .replace(/\$(tenant|site)\b/g, (_, name: 'tenant' | 'site') => {
        const values = variables[name].map((value) => value.replace(/[\\^$.|?*+()[\]{}/-]/g, '\\$&'));
        return values.length === 1 ? values[0]! : `(${values.join('|')})`;
      });
    expect(text, 'a Grafana variable was left in the query').not.toMatch(/\$[A-Za-z_]/);
    return text;
  }

  async function run(dashboard: Dashboard, panel: string, refId: string, variables: { tenant: string[]; site: string[] }): Promise<Row[]> {
    const found = queriesOf(dashboard).find((q) => q.panel === panel && q.refId === refId);
    if (!found) throw new Error(`no query ${refId} in panel "${panel}" of ${dashboard.title}`);
    const series = await influxql(concrete(found.query, variables));
    return series.flatMap((s) => s.values.map((values) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((column, i) => [column, values[i]])) })));
  }

  async function load(uid: string): Promise<Dashboard> {
    return (await committedDashboards()).get(`${uid}.json`)!;
  }

  const acme = { tenant: ['acme'], site: ['branch7', 'hq'] };

  it('runs every query of every dashboard without an InfluxDB error', async () => {
    for (const dashboard of (await committedDashboards()).values()) {
      for (const q of queriesOf(dashboard)) {
        await expect(influxql(concrete(q.query, { tenant: ['acme', 'globex'], site: ['branch7', 'hq', 'depot'] })), q.where).resolves.toBeDefined();
      }
    }
  });

  it('lists the tenants, and the sites of the chosen tenant, in the variables', async () => {
    for (const uid of ['algwatch-fleet', 'algwatch-site']) {
      const dashboard = await load(uid);
      // One series per measurement holding the tag: Grafana merges the values into one list.
      const values = async (variable: string) => [...new Set((await run(dashboard, variable, '', acme)).map((row) => row.value))].sort();
      expect(await values('$tenant')).toEqual(['acme', 'globex']);
      expect(await values('$site')).toEqual(['branch7', 'hq']);
    }
  });

  it('shows the site whose newest SIP ALG result found a rewrite, and not the site whose ALG was switched off', async () => {
    const fleet = await load('algwatch-fleet');
    const rows = await run(fleet, 'SIP ALG detected now, per site and transport', 'A', acme);
    expect(rows.map(({ site, transport, alg_detected, rewritten_fields }) => ({ site, transport, alg_detected, rewritten_fields }))).toEqual([
      { site: 'branch7', transport: 'udp', alg_detected: true, rewritten_fields: 'via,contact,sdp-c' },
    ]);
    expect(rows[0]!.time).toBe(ago(10));
    expect((await run(fleet, 'Sites with SIP ALG detected now', 'A', acme)).map((row) => row.sites)).toEqual([1]);
    expect((await run(fleet, 'Sites with SIP ALG detected now', 'A', { tenant: ['acme', 'globex'], site: ['branch7', 'hq', 'depot'] })).map((row) => row.sites)).toEqual([2]);
  });

  it('counts sites with SIP ALG detected per interval', async () => {
    const rows = await run(await load('algwatch-fleet'), 'Sites with SIP ALG detected', 'A', acme);
    const at = (ms: number) => rows.find((row) => (row.time as number) <= ms && ms < (row.time as number) + 600_000)?.sites;
    expect(at(ago(100))).toBe(1); // hq, before its ALG was switched off
    expect(at(ago(60))).toBe(1); // branch7
    expect(at(ago(10))).toBe(1); // branch7 only: hq is clean now
    expect(at(ago(150))).toBe(0);
  });

  it('lists each site with its newest NAT behaviour and binding lifetime', async () => {
    const fleet = await load('algwatch-fleet');
    const nat = await run(fleet, 'NAT behaviour and UDP binding lifetime per site', 'A', acme);
    expect(nat.map(({ site, mapping_code, filtering_code, nat_present }) => ({ site, mapping_code, filtering_code, nat_present }))).toEqual([
      { site: 'branch7', mapping_code: 3, filtering_code: 3, nat_present: true },
      { site: 'hq', mapping_code: 1, filtering_code: 2, nat_present: true },
    ]);
    const lifetime = await run(fleet, 'NAT behaviour and UDP binding lifetime per site', 'B', acme);
    expect(lifetime.map(({ site, lower_s, udp_lifetime_s, outlived_max }) => ({ site, lower_s, udp_lifetime_s, outlived_max }))).toEqual([
      { site: 'branch7', lower_s: 25, udp_lifetime_s: 28.5, outlived_max: false },
      { site: 'hq', lower_s: 600, udp_lifetime_s: null, outlived_max: true },
    ]);
  });

  it('draws STUN round-trip time per site and ALG detections per day from the hourly rollup', async () => {
    const fleet = await load('algwatch-fleet');
    const rtt = await run(fleet, 'STUN round-trip time', 'A', acme);
    expect(new Set(rtt.map((row) => row.site))).toEqual(new Set(['branch7', 'hq']));
    expect(rtt.filter((row) => row.site === 'hq').map((row) => row.mean)).toEqual([12]);
    const daily = await run(fleet, 'SIP ALG detections per day (hourly rollup, long ranges)', 'A', acme);
    const perSite = (site: string) => daily.filter((row) => row.site === site).reduce((sum, row) => sum + (row.sum as number), 0);
    expect([perSite('branch7'), perSite('hq')]).toEqual([2, 1]);
  });

  it("shows one site's SIP ALG per transport and what the ALG rewrote", async () => {
    const site = await load('algwatch-site');
    const branch7 = { tenant: ['acme'], site: ['branch7'] };
    const timeline = await run(site, 'SIP ALG per transport', 'A', branch7);
    const newest = (transport: string) => timeline.filter((row) => row.transport === transport).at(-1)?.last;
    expect([newest('udp'), newest('tcp'), newest('tls')]).toEqual([true, false, undefined]);
    const rewritten = await run(site, 'Rewritten SIP fields (newest result per transport)', 'A', branch7);
    expect(rewritten.map(({ transport, result, rewritten_fields, rewrites_outbound, rewrites_inbound }) => ({ transport, result, rewritten_fields, rewrites_outbound, rewrites_inbound }))).toEqual([
      { transport: 'tcp', result: 'clean', rewritten_fields: '', rewrites_outbound: 0, rewrites_inbound: 0 },
      { transport: 'tls', result: 'blocked', rewritten_fields: '', rewrites_outbound: 0, rewrites_inbound: 0 },
      { transport: 'udp', result: 'detected', rewritten_fields: 'via,contact,sdp-c', rewrites_outbound: 3, rewrites_inbound: 1 },
    ]);
  });

  it("shows when a site's public address and port changed, and its NAT classification", async () => {
    const site = await load('algwatch-site');
    const branch7 = { tenant: ['acme'], site: ['branch7'] };
    expect((await run(site, 'Public address seen by STUN', 'A', branch7)).map((row) => row.last)).toEqual(['198.51.100.7', '198.51.100.8']);
    expect((await run(site, 'Public port seen by STUN', 'A', branch7)).map((row) => row.last)).toEqual([40001, 40002]);
    const history = await run(site, 'STUN mappings, newest first', 'A', branch7);
    expect(history.map(({ time, public_address, public_port }) => ({ time, public_address, public_port }))).toEqual([
      { time: ago(30), public_address: '198.51.100.8', public_port: 40002 },
      { time: ago(90), public_address: '198.51.100.7', public_port: 40001 },
    ]);
    expect((await run(site, 'NAT mapping and filtering (RFC 4787)', 'A', branch7)).map((row) => row.mapping)).toEqual([3]);
    expect((await run(site, 'NAT mapping and filtering (RFC 4787)', 'B', branch7)).map((row) => row.filtering)).toEqual([3]);
  });

  it('plots the binding lifetime, and a binding that outlived the test as a lower bound', async () => {
    const site = await load('algwatch-site');
    const panel = 'UDP binding lifetime';
    expect((await run(site, panel, 'A', { tenant: ['acme'], site: ['branch7'] })).map((row) => row.mean)).toEqual([28.5]);
    expect(await run(site, panel, 'B', { tenant: ['acme'], site: ['branch7'] })).toEqual([]);
    expect(await run(site, panel, 'A', { tenant: ['acme'], site: ['hq'] })).toEqual([]);
    expect((await run(site, panel, 'B', { tenant: ['acme'], site: ['hq'] })).map((row) => row.min)).toEqual([600]);
    // The panel colours lifetimes the way check and the alerts grade them (the catalogue's thresholds).
    const lifetimeColors = site.panels.find((p) => p.title === panel)!.fieldConfig!.defaults.thresholds!;
    expect([28.5, 30, 30.001, 119.999, 120].map((seconds) => severityOfColor(thresholdColor(lifetimeColors, seconds)))).toEqual(
      [28.5, 30, 30.001, 119.999, 120].map(bindingLifetimeSeverity),
    );
  });

  it('counts fired alerts by severity and lists every alert state change, newest first', async () => {
    const alerts = await load('algwatch-alerts');
    expect((await run(alerts, 'Alerts fired', 'A', acme)).map((row) => row.fired)).toEqual([2]);
    const perSeverity = await run(alerts, 'Alerts fired per interval, by severity', 'A', acme);
    expect(perSeverity.map((row) => [row.severity, row.count])).toEqual([['critical', 1], ['critical', 1]]);
    const changes = await run(alerts, 'Alert state changes', 'A', acme);
    expect(changes.sort((a, b) => (b.time as number) - (a.time as number)).map(({ site, rule, state }) => [site, rule, state])).toEqual([
      ['hq', 'sip_alg_udp', 'resolved'],
      ['branch7', 'target_slow', 'pending'],
      ['branch7', 'sip_alg_udp', 'firing'],
      ['hq', 'sip_alg_udp', 'firing'],
    ]);
    const timeline = await run(alerts, 'Firing per site and rule', 'A', acme);
    const newest = (site: string, rule: string) => timeline.filter((row) => row.site === site && row.rule === rule).at(-1)?.last;
    expect([newest('branch7', 'sip_alg_udp'), newest('hq', 'sip_alg_udp')]).toEqual([true, false]);
  });

  it('shows keep-alive round-trip time, loss and status code per target', async () => {
    const site = await load('algwatch-site');
    const branch7 = { tenant: ['acme'], site: ['branch7'] };
    const options = await run(site, 'Keep-alive round-trip time', 'A', branch7);
    expect(options.map(({ target, transport, mean }) => ({ target, transport, mean }))).toEqual([
      { target: 'pbx', transport: 'udp', mean: 30 },
      { target: 'pbx', transport: 'udp', mean: 80 },
    ]);
    const crlf = await run(site, 'Keep-alive round-trip time', 'B', branch7);
    expect(crlf.map(({ target, transport, mean }) => ({ target, transport, mean }))).toEqual([{ target: 'pbx', transport: 'tcp', mean: 15 }]);
    expect((await run(site, 'SIP OPTIONS loss', 'A', branch7)).map((row) => row.mean)).toEqual([0, 50]);
    expect((await run(site, 'SIP OPTIONS status code', 'A', branch7)).map((row) => row.last)).toEqual([200, 503]);
    expect((await run(site, 'CRLF keep-alives without a pong', 'A', branch7)).map((row) => row.count)).toEqual([1]);
  });
});

/**
 * fleetPoints is a small fleet as ingest stores it: acme/branch7 has a SIP ALG on UDP (newest
 * result 10 minutes ago), acme/hq had one until its router was fixed, globex/depot has one too.
 */
function fleetPoints(ago: (minutes: number) => number): StoredPoint[] {
  const at = (tenant: string, site: string, minutes: number, point: Omit<StoredPoint, 'timestampMs' | 'tags'> & { tags: Record<string, string> }): StoredPoint => ({
    ...point,
    tags: { tenant, site, agent: `${site}-agent`, ...point.tags },
    timestampMs: ago(minutes),
  });
  const sipAlg = (detected: boolean, fields: string, outbound: number, inbound: number, rttMs: number) => ({
    alg_detected: detected,
    rewrites_outbound: outbound,
    rewrites_inbound: inbound,
    rewritten_fields: fields,
    rtt_ms: rttMs,
  });
  const algTags = (transport: string, detected: boolean) => ({ target: 'algwatch', transport, result: detected ? 'detected' : 'clean' });
  return [
    at('acme', 'branch7', 120, { measurement: 'sip_alg', tags: algTags('udp', false), fields: sipAlg(false, '', 0, 0, 21) }),
    at('acme', 'branch7', 60, { measurement: 'sip_alg', tags: algTags('udp', true), fields: sipAlg(true, 'via,contact', 2, 1, 22) }),
    at('acme', 'branch7', 10, { measurement: 'sip_alg', tags: algTags('udp', true), fields: sipAlg(true, 'via,contact,sdp-c', 3, 1, 23) }),
    at('acme', 'branch7', 10, { measurement: 'sip_alg', tags: algTags('tcp', false), fields: sipAlg(false, '', 0, 0, 40) }),
    // TLS blocked: the probe writes alg_detected=false without an answer, which is no "clean".
    at('acme', 'branch7', 10, { measurement: 'sip_alg', tags: { target: 'algwatch', transport: 'tls', result: 'blocked' }, fields: { alg_detected: false, rewrites_outbound: 0, rewrites_inbound: 0, rewritten_fields: '' } }),
    at('acme', 'hq', 100, { measurement: 'sip_alg', tags: algTags('udp', true), fields: sipAlg(true, 'via', 1, 0, 11) }),
    at('acme', 'hq', 10, { measurement: 'sip_alg', tags: algTags('udp', false), fields: sipAlg(false, '', 0, 0, 11) }),
    at('globex', 'depot', 10, { measurement: 'sip_alg', tags: algTags('udp', true), fields: sipAlg(true, 'contact', 1, 0, 31) }),

    at('acme', 'branch7', 90, { measurement: 'stun_mapping', tags: { target: 'algwatch', result: 'ok' }, fields: { nat_present: true, public_address: '198.51.100.7', public_port: 40001, port_preserved: false, rtt_ms: 20 } }),
    // The alert engine's state changes: hq's ALG alert fired and resolved, branch7's fired and still fires.
    at('acme', 'hq', 100, { measurement: 'alert', tags: { rule: 'sip_alg_udp', severity: 'critical', state: 'firing', target: 'algwatch', transport: 'udp' }, fields: { firing: true, summary: 'SIP ALG is rewriting SIP over UDP (Via)', fingerprint: 'f1' } }),
    at('acme', 'hq', 10, { measurement: 'alert', tags: { rule: 'sip_alg_udp', severity: 'critical', state: 'resolved', target: 'algwatch', transport: 'udp' }, fields: { firing: false, summary: 'SIP ALG is rewriting SIP over UDP (Via)', fingerprint: 'f1' } }),
    at('acme', 'branch7', 60, { measurement: 'alert', tags: { rule: 'sip_alg_udp', severity: 'critical', state: 'firing', target: 'algwatch', transport: 'udp' }, fields: { firing: true, summary: 'SIP ALG is rewriting SIP over UDP (Via, Contact)', fingerprint: 'f2' } }),
    at('acme', 'branch7', 50, { measurement: 'alert', tags: { rule: 'target_slow', severity: 'warning', state: 'pending', target: 'pbx', transport: 'udp' }, fields: { firing: false, summary: 'pbx answers in 900 ms', fingerprint: 'f3' } }),

    at('acme', 'branch7', 30, { measurement: 'stun_mapping', tags: { target: 'algwatch', result: 'ok' }, fields: { nat_present: true, public_address: '198.51.100.8', public_port: 40002, port_preserved: false, rtt_ms: 25 } }),
    at('acme', 'hq', 30, { measurement: 'stun_mapping', tags: { target: 'algwatch', result: 'ok' }, fields: { nat_present: true, public_address: '203.0.113.5', public_port: 5060, port_preserved: true, rtt_ms: 12 } }),

    at('acme', 'branch7', 30, { measurement: 'nat_behavior', tags: { target: 'algwatch', result: 'ok', mapping: 'address-and-port-dependent', filtering: 'address-and-port-dependent' }, fields: { nat_present: true, mapping_code: 3, filtering_code: 3 } }),
    at('acme', 'hq', 30, { measurement: 'nat_behavior', tags: { target: 'algwatch', result: 'ok', mapping: 'endpoint-independent', filtering: 'address-dependent' }, fields: { nat_present: true, mapping_code: 1, filtering_code: 2 } }),

    at('acme', 'branch7', 40, { measurement: 'binding_lifetime', tags: { target: 'algwatch', result: 'ok' }, fields: { udp_lifetime_s: 28.5, lower_s: 25, upper_s: 30, outlived_max: false, elapsed_ms: 95_000 } }),
    // The binding outlived the longest wait: no lifetime, only its lower bound.
    at('acme', 'hq', 40, { measurement: 'binding_lifetime', tags: { target: 'algwatch', result: 'ok' }, fields: { lower_s: 600, upper_s: 600, outlived_max: true, elapsed_ms: 1_200_000 } }),

    at('acme', 'branch7', 25, { measurement: 'sip_options', tags: { target: 'pbx', transport: 'udp', result: 'ok' }, fields: { rtt_ms: 30, status_code: 200, loss_pct: 0, public_address: '198.51.100.8', public_port: 40010 } }),
    at('acme', 'branch7', 5, { measurement: 'sip_options', tags: { target: 'pbx', transport: 'udp', result: 'error_response' }, fields: { rtt_ms: 80, status_code: 503, loss_pct: 50, public_address: '198.51.100.8', public_port: 40010 } }),
    at('acme', 'branch7', 25, { measurement: 'crlf_keepalive', tags: { target: 'pbx', transport: 'tcp', result: 'ok' }, fields: { rtt_ms: 15, pong: true } }),
    at('acme', 'branch7', 5, { measurement: 'crlf_keepalive', tags: { target: 'pbx', transport: 'tcp', result: 'no_pong' }, fields: { pong: false } }),
  ];
}

// ---------- docker-compose.yml and provisioning ----------

type Yaml = string | null | Yaml[] | { [key: string]: Yaml };

/**
 * parseYamlSubset reads the block YAML our deployment files use: maps, lists (of scalars or maps),
 * quoted and plain scalars, JSON-style flow lists, whole-line comments. Anything else throws, so a
 * file drifting beyond this subset fails the test instead of being half-read. (No YAML parser is
 * installed and one is not worth a dependency for three small files.)
 */
function parseYamlSubset(text: string): Yaml {
  const lines = text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'))
    .map((line) => ({ indent: line.length - line.trimStart().length, text: line.trim() }));
  let i = 0;
  const scalar = (value: string): Yaml => (/^["[]/.test(value) ? (JSON.parse(value) as Yaml) : value);
  const isItem = (index: number, indent: number) => lines[index]?.indent === indent && (lines[index]!.text === '-' || lines[index]!.text.startsWith('- '));
  function block(indent: number): Yaml {
    return isItem(i, indent) ? list(indent) : map(indent);
  }
  function list(indent: number): Yaml[] {
    const items: Yaml[] = [];
    while (isItem(i, indent)) {
      const rest = lines[i]!.text.slice(2);
      if (/^[\w.-]+:( |$)/.test(rest)) {
        lines[i] = { indent: indent + 2, text: rest };
        items.push(map(indent + 2));
      } else {
        i++;
        items.push(scalar(rest));
      }
    }
    return items;
  }
  function map(indent: number): { [key: string]: Yaml } {
    const entries: { [key: string]: Yaml } = {};
    while (i < lines.length && lines[i]!.indent === indent && !isItem(i, indent)) {
      const entry = /^([\w.-]+):(?: (.+))?$/.exec(lines[i]!.text);
      if (!entry) throw new Error(`YAML subset: cannot read line "${lines[i]!.text}"`);
      i++;
      if (entry[2] !== undefined) entries[entry[1]!] = scalar(entry[2]);
      else if (i < lines.length && lines[i]!.indent > indent) entries[entry[1]!] = block(lines[i]!.indent);
      else if (isItem(i, indent)) entries[entry[1]!] = list(indent);
      else entries[entry[1]!] = null;
    }
    return entries;
  }
  const document = block(0);
  if (i !== lines.length) throw new Error(`YAML subset: stopped at line "${lines[i]!.text}"`);
  return document;
}

async function readYaml(path: string): Promise<Record<string, any>> {
  // A parse boundary: the shape is asserted field by field below.
  return parseYamlSubset(await readFile(join(root, path), 'utf8')) as Record<string, any>;
}

describe('deployment files (structure only: Docker is not run here)', () => {
  it('reads nested maps, lists of maps, flow lists and quoted scalars', () => {
    expect(parseYamlSubset('a:\n  b: "1"\n  c:\n    - x\n    - k: v\n      l: ["p", "q"]\nd:\n')).toEqual({ a: { b: '1', c: ['x', { k: 'v', l: ['p', 'q'] }] }, d: null });
    expect(() => parseYamlSubset('a: 1\n b: 2\n')).toThrow(/YAML subset/);
  });

  it('runs the server with flags its config accepts, against the compose InfluxDB database', async () => {
    const compose = await readYaml('docker-compose.yml');
    expect(Object.keys(compose.services)).toEqual(['influxdb', 'grafana', 'algwatch']);
    const server = compose.services.algwatch;
    expect(server.build).toBe('.');
    const config = parseServerConfig(server.command as string[], { ALGWATCH_PUBLIC_HOST: 'sip.example.net' });
    expect(config).toMatchObject({ influxUrl: 'http://influxdb:8086/algwatch', dataDir: '/data', publicHost: 'sip.example.net' });
    expect(compose.services.influxdb.image).toBe('influxdb:1.8');
    expect(compose.services.influxdb.environment.INFLUXDB_DB).toBe(new URL(config.influxUrl!).pathname.slice(1));
    expect(server.environment.ALGWATCH_PUBLIC_HOST).toMatch(/^\$\{ALGWATCH_PUBLIC_HOST:\?/);
    expect(server.ports).toEqual(['5060:5060/udp', '5060:5060/tcp', '5061:5061/tcp', '3478:3478/udp', '3479:3479/udp', '8080:8080/tcp']);
    expect(server.volumes).toEqual(['algwatch-data:/data']);
    // The published ports are the server's defaults: the flags do not move them.
    expect([config.sipPort, config.tlsPort, config.stunPort, config.stunAltPort, config.httpPort]).toEqual([5060, 5061, 3478, 3479, 8080]);
  });

  it('builds the image from node:20-slim and starts the server launcher with flags its config accepts', async () => {
    const dockerfile = await readFile(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-slim AS build$/m);
    expect(dockerfile).toMatch(/^RUN npm ci && npm run build/m);
    const entrypoint = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(dockerfile)![1]!) as string[];
    expect(entrypoint).toEqual(['node', 'server/bin/algwatch-server.js']);
    expect(existsSync(join(root, entrypoint[1]!))).toBe(true);
    const cmd = JSON.parse(/^CMD (.+)$/m.exec(dockerfile)![1]!) as string[];
    expect(parseServerConfig(cmd, {}).dataDir).toBe('/data');
    for (const copied of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of copied[1]!.split(' ')) expect(existsSync(join(root, source)), source).toBe(true);
    }
  });

  it('provisions the InfluxDB datasource and the generated dashboards into Grafana', async () => {
    const compose = await readYaml('docker-compose.yml');
    const grafana = compose.services.grafana;
    expect(grafana.image).toMatch(/^grafana\/grafana-oss:/);
    expect(grafana.ports).toEqual(['3000:3000']);
    const mounts = new Map((grafana.volumes as string[]).map((volume) => [volume.split(':')[0]!, volume.split(':')[1]!]));
    for (const host of [...mounts.keys()].filter((host) => host.startsWith('./'))) expect(existsSync(join(root, host)), host).toBe(true);
    expect(mounts.get('./dashboards/provisioning')).toBe('/etc/grafana/provisioning');

    const datasources = await readYaml('dashboards/provisioning/datasources/algwatch.yml');
    const [datasource] = datasources.datasources;
    expect({ uid: datasource.uid, type: datasource.type }).toEqual(DATASOURCE);
    expect(datasource.url).toBe('http://influxdb:8086');
    expect(datasource.jsonData.dbName).toBe(compose.services.influxdb.environment.INFLUXDB_DB);

    const providers = await readYaml('dashboards/provisioning/dashboards/algwatch.yml');
    const [provider] = providers.providers;
    expect(provider.type).toBe('file');
    expect(provider.options.path).toBe(mounts.get('./dashboards/json'));
    const home = grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH as string;
    expect(home.startsWith(`${provider.options.path}/`)).toBe(true);
    expect(existsSync(join(root, 'dashboards/json', home.slice(provider.options.path.length + 1)))).toBe(true);
  });
});
