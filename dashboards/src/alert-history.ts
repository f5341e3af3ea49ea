/**
 * alertHistory is "algwatch — Alert history": what the alert engine raised and resolved, per site
 * and rule, from the `alert` measurement (one point per alert state change, written by the server).
 */
import { ALERT_HISTORY_UID, SITE_DETAIL_UID, type Dashboard, type FieldOverride, type ValueMapping } from './grafana.js';
import { measurement, perInterval, scope } from './influxql.js';
import { GREEN, ORANGE, RED, dashboard, rename, stateTimelinePanel, statPanel, tablePanel, tagVariable, thresholds, timeSeriesPanel } from './panels.js';

const alert = measurement('alert');

/** FIRING_MAPPING shows the `firing` field as words. */
const FIRING_MAPPING: ValueMapping = {
  type: 'value',
  options: { true: { text: 'firing', color: RED, index: 0 }, false: { text: 'not firing', color: GREEN, index: 1 } },
};

const SEVERITY_COLOURS: FieldOverride[] = [
  { matcher: { id: 'byName', options: 'critical' }, properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: RED } }] },
  { matcher: { id: 'byName', options: 'warning' }, properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: ORANGE } }] },
];

const siteLink: FieldOverride['properties'][number] = {
  id: 'links',
  value: [{ title: 'Site detail', url: `/d/${SITE_DETAIL_UID}?\${tenant:queryparam}&var-site=\${__value.raw}&\${__url_time_range}` }],
};

export function alertHistory(): Dashboard {
  const firingOnly = `${scope()} AND ${alert.tag('state')} = 'firing'`;
  return dashboard({
    uid: ALERT_HISTORY_UID,
    title: 'algwatch — Alert history',
    description: 'Alerts the server raised and resolved (measurement alert: one point per state change).',
    tags: ['algwatch'],
    refresh: '1m',
    time: { from: 'now-7d', to: 'now' },
    templating: {
      list: [tagVariable('tenant', 'Tenant', { multi: true }), tagVariable('site', 'Site', { multi: true, within: 'tenant' })],
    },
    panels: [
      statPanel({
        title: 'Alerts fired',
        description: 'How many times an alert started firing in the time range.',
        gridPos: { x: 0, y: 0, w: 4, h: 7 },
        queries: [{ query: `SELECT count(${alert.field('firing')}) AS "fired" FROM ${alert.raw} WHERE ${firingOnly}` }],
        defaults: { noValue: '0', color: { mode: 'thresholds' }, thresholds: thresholds(GREEN, [1, ORANGE]) },
      }),
      timeSeriesPanel(
        {
          title: 'Alerts fired per interval, by severity',
          description: 'Alerts that started firing in each interval.',
          gridPos: { x: 4, y: 0, w: 20, h: 7 },
          queries: [
            {
              query: `SELECT count(${alert.field('firing')}) FROM ${alert.raw} WHERE ${firingOnly} GROUP BY ${perInterval(alert.tag('severity'))} fill(none)`,
              alias: '$tag_severity',
            },
          ],
          overrides: SEVERITY_COLOURS,
        },
        { points: true },
      ),
      stateTimelinePanel({
        title: 'Firing per site and rule',
        description: 'Red while an alert of the rule fired at the site; a change of colour is a state change.',
        gridPos: { x: 0, y: 7, w: 24, h: 9 },
        queries: [
          {
            query: `SELECT last(${alert.field('firing')}) FROM ${alert.raw} WHERE ${scope()} GROUP BY ${perInterval(alert.tag('site'), alert.tag('rule'))} fill(previous)`,
            alias: '$tag_site $tag_rule',
          },
        ],
        defaults: { mappings: [FIRING_MAPPING] },
      }),
      tablePanel({
        title: 'Alert state changes',
        description: 'Every state change, newest first: pending, firing, resolved, or cleared (pending that never fired).',
        gridPos: { x: 0, y: 16, w: 24, h: 10 },
        queries: [
          {
            query: `SELECT ${alert.field('summary')} FROM ${alert.raw} WHERE ${scope()} GROUP BY ${[alert.tag('tenant'), alert.tag('site'), alert.tag('rule'), alert.tag('severity'), alert.tag('state'), alert.tag('target')].join(', ')} ORDER BY time DESC LIMIT 200`,
          },
        ],
        overrides: [rename('Time', 'At'), rename('site', 'Site', [siteLink]), rename('summary', 'What was seen')],
      }),
    ],
  });
}
