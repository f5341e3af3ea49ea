/**
 * fleetOverview is "algwatch — Fleet overview": which sites have a SIP ALG rewriting SIP right now,
 * how their NAT maps and filters, how long a UDP binding lives, and how both evolve over time.
 */
import { FLEET_OVERVIEW_UID, SITE_DETAIL_UID, type Dashboard, type FieldOverride } from './grafana.js';
import { measurement, perInterval, scope } from './influxql.js';
import { FINDINGS, THRESHOLDS } from '@algwatch/protocol/findings/index';
import { ALG_MAPPING, LIFETIME_THRESHOLDS, NAT_FILTERING_CODE_MAPPING, NAT_MAPPING_CODE_MAPPING, severityColor } from './findings-colors.js';
import {
  GREEN,
  dashboard,
  rename,
  statPanel,
  tablePanel,
  tagVariable,
  thresholds,
  timeSeriesPanel,
} from './panels.js';

const sipAlg = measurement('sip_alg');
const natBehavior = measurement('nat_behavior');
const bindingLifetime = measurement('binding_lifetime');
const stunMapping = measurement('stun_mapping');

/**
 * latestAlgPerTransport is each site's newest sip_alg result per transport; a site has an ALG
 * "now" when that newest result says so, whatever older results said.
 */
const latestAlgPerTransport = `SELECT last(${sipAlg.field('alg_detected')}) AS "alg_detected", ${sipAlg.field('rewritten_fields')} FROM ${sipAlg.raw} WHERE ${scope()} GROUP BY ${sipAlg.tag('tenant')}, ${sipAlg.tag('site')}, ${sipAlg.tag('transport')}`;

/** A site link keeps the tenant and time range and opens the site detail dashboard. */
const siteLink: FieldOverride['properties'][number] = {
  id: 'links',
  value: [{ title: 'Site detail', url: `/d/${SITE_DETAIL_UID}?\${tenant:queryparam}&var-site=\${__value.raw}&\${__url_time_range}` }],
};

export function fleetOverview(): Dashboard {
  return dashboard({
    uid: FLEET_OVERVIEW_UID,
    title: 'algwatch — Fleet overview',
    description: 'SIP ALG and NAT binding health of every site; click a site for its detail.',
    tags: ['algwatch'],
    refresh: '1m',
    time: { from: 'now-24h', to: 'now' },
    templating: {
      list: [tagVariable('tenant', 'Tenant', { multi: true }), tagVariable('site', 'Site', { multi: true, within: 'tenant' })],
    },
    panels: [
      statPanel({
        title: 'Sites with SIP ALG detected now',
        description: "Sites whose newest sip_alg result on at least one transport found the router rewriting algwatch's SIP.",
        gridPos: { x: 0, y: 0, w: 4, h: 7 },
        queries: [
          {
            query: `SELECT count("transports") AS "sites" FROM (SELECT count("alg_detected") AS "transports" FROM (${latestAlgPerTransport}) WHERE "alg_detected" = true GROUP BY ${sipAlg.tag('tenant')}, ${sipAlg.tag('site')})`,
          },
        ],
        defaults: { noValue: '0', color: { mode: 'thresholds' }, thresholds: thresholds(GREEN, [1, severityColor(FINDINGS.sip_alg_udp.defaultSeverity)]) },
      }),
      tablePanel({
        title: 'SIP ALG detected now, per site and transport',
        description: 'The newest sip_alg result of each site and transport where the ALG rewrote something, and which SIP fields it rewrote.',
        gridPos: { x: 4, y: 0, w: 20, h: 7 },
        queries: [
          {
            query: `SELECT "alg_detected", ${sipAlg.field('rewritten_fields')} FROM (${latestAlgPerTransport}) WHERE "alg_detected" = true GROUP BY ${sipAlg.tag('tenant')}, ${sipAlg.tag('site')}, ${sipAlg.tag('transport')}`,
          },
        ],
        defaults: { mappings: [ALG_MAPPING] },
        overrides: [rename('Time', 'Last result'), rename('site', 'Site', [siteLink]), rename('rewritten_fields', 'Rewritten fields'), rename('alg_detected', 'SIP ALG')],
      }),
      timeSeriesPanel({
        title: 'Sites with SIP ALG detected',
        description: 'How many sites had at least one sip_alg result with the ALG detected in each interval.',
        gridPos: { x: 0, y: 7, w: 12, h: 8 },
        queries: [
          {
            query: `SELECT count("detections") AS "sites" FROM (SELECT count(${sipAlg.field('alg_detected')}) AS "detections" FROM ${sipAlg.raw} WHERE ${scope()} AND ${sipAlg.field('alg_detected')} = true GROUP BY ${perInterval(sipAlg.tag('tenant'), sipAlg.tag('site'))} fill(none)) WHERE $timeFilter GROUP BY time($__interval) fill(0)`,
            alias: 'sites with SIP ALG',
          },
        ],
        defaults: { decimals: 0, min: 0, color: { mode: 'fixed', fixedColor: severityColor(FINDINGS.sip_alg_udp.defaultSeverity) } },
      }),
      timeSeriesPanel({
        title: 'STUN round-trip time',
        description: "Mean STUN Binding round-trip time from each site to algwatch's reflector.",
        gridPos: { x: 12, y: 7, w: 12, h: 8 },
        queries: [
          {
            query: `SELECT mean(${stunMapping.field('rtt_ms')}) FROM ${stunMapping.raw} WHERE ${scope()} GROUP BY ${perInterval(stunMapping.tag('tenant'), stunMapping.tag('site'))} fill(none)`,
            alias: '$tag_site',
          },
        ],
        defaults: { unit: 'ms', min: 0 },
      }),
      tablePanel({
        title: 'NAT behaviour and UDP binding lifetime per site',
        description:
          `Newest RFC 4787 mapping and filtering behaviour (nat_behavior) and newest UDP binding lifetime (binding_lifetime). Red at or below ${THRESHOLDS.bindingCriticalSeconds} s: even a ${THRESHOLDS.bindingCriticalSeconds} s keep-alive loses the binding; orange under ${THRESHOLDS.bindingWarningSeconds} s: phones registering every few minutes lose inbound calls.`,
        gridPos: { x: 0, y: 15, w: 24, h: 10 },
        queries: [
          {
            query: `SELECT last(${natBehavior.field('mapping_code')}) AS "mapping_code", ${natBehavior.field('filtering_code')}, ${natBehavior.field('nat_present')} FROM ${natBehavior.raw} WHERE ${scope()} GROUP BY ${natBehavior.tag('site')}`,
          },
          {
            query: `SELECT last(${bindingLifetime.field('lower_s')}) AS "lower_s", ${bindingLifetime.field('udp_lifetime_s')}, ${bindingLifetime.field('outlived_max')} FROM ${bindingLifetime.raw} WHERE ${scope()} GROUP BY ${bindingLifetime.tag('site')}`,
          },
        ],
        // One row per site: the two queries joined on the site column.
        transformations: [
          { id: 'joinByField', options: { byField: 'site', mode: 'outer' } },
          { id: 'organize', options: { excludeByName: { Time: true, 'Time 1': true, 'Time 2': true }, indexByName: {}, renameByName: {} } },
        ],
        overrides: [
          rename('site', 'Site', [siteLink]),
          rename('mapping_code', 'NAT mapping', [{ id: 'mappings', value: [NAT_MAPPING_CODE_MAPPING] }]),
          rename('filtering_code', 'NAT filtering', [{ id: 'mappings', value: [NAT_FILTERING_CODE_MAPPING] }]),
          rename('nat_present', 'NAT present'),
          rename('udp_lifetime_s', 'UDP binding lifetime', [
            { id: 'unit', value: 's' },
            { id: 'thresholds', value: LIFETIME_THRESHOLDS },
            { id: 'custom.cellOptions', value: { type: 'color-background' } },
          ]),
          rename('lower_s', 'Lifetime at least', [{ id: 'unit', value: 's' }]),
          rename('outlived_max', 'Outlived the longest wait'),
        ],
      }),
      timeSeriesPanel(
        {
          title: 'SIP ALG detections per day (hourly rollup, long ranges)',
          description: 'From the 400-day hourly retention policy: how many sip_alg results per day found the ALG, per site. Use for ranges past 30 days.',
          gridPos: { x: 0, y: 25, w: 24, h: 8 },
          queries: [
            {
              query: `SELECT sum(${sipAlg.trueCount('alg_detected')}) FROM ${sipAlg.hourly} WHERE ${scope()} GROUP BY time(1d), ${sipAlg.tag('tenant')}, ${sipAlg.tag('site')} fill(none)`,
              alias: '$tag_site',
            },
          ],
          defaults: { decimals: 0, min: 0 },
        },
        { points: true },
      ),
    ],
  });
}
