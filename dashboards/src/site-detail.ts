/**
 * siteDetail is "algwatch — Site detail": one site's SIP ALG status per transport over time, what
 * the ALG rewrote, the public address and port its NAT gives out, how long a UDP binding lives,
 * how its keep-alives (SIP OPTIONS, CRLF) fare per target, and how its test calls (rtp-path) sound.
 */
import { FLEET_OVERVIEW_UID, SITE_DETAIL_UID, type Dashboard } from './grafana.js';
import { measurement, perInterval, scope } from './influxql.js';
import { FINDINGS, THRESHOLDS } from '@algwatch/protocol/findings/index';
import {
  ALG_MAPPING,
  LIFETIME_THRESHOLDS,
  LOSS_THRESHOLDS,
  MOS_THRESHOLDS,
  NAT_FILTERING_CODE_MAPPING,
  NAT_MAPPING_CODE_MAPPING,
  RTT_THRESHOLDS,
  SIP_STATUS_THRESHOLDS,
  algMapping,
  severityColor,
} from './findings-colors.js';
import {
  RUN_MAPPING,
  dashboard,
  rename,
  stateTimelinePanel,
  tablePanel,
  tagVariable,
  timeSeriesPanel,
} from './panels.js';

const sipAlg = measurement('sip_alg');
const stunMapping = measurement('stun_mapping');
const natBehavior = measurement('nat_behavior');
const bindingLifetime = measurement('binding_lifetime');
const sipOptions = measurement('sip_options');
const crlfKeepalive = measurement('crlf_keepalive');
const rtpPath = measurement('rtp_path');
const probeRun = measurement('probe_run');

export function siteDetail(): Dashboard {
  const byTarget = perInterval(stunMapping.tag('target'));
  const byTargetTransport = perInterval(sipOptions.tag('target'), sipOptions.tag('transport'));
  return dashboard({
    uid: SITE_DETAIL_UID,
    title: 'algwatch — Site detail',
    description: `One site in depth; the fleet overview (/d/${FLEET_OVERVIEW_UID}) links here.`,
    tags: ['algwatch'],
    refresh: '1m',
    time: { from: 'now-24h', to: 'now' },
    templating: {
      list: [tagVariable('tenant', 'Tenant', { multi: false }), tagVariable('site', 'Site', { multi: false, within: 'tenant' })],
    },
    panels: [
      stateTimelinePanel({
        title: 'SIP ALG per transport',
        description: "Newest sip_alg result per interval and transport: red where the router rewrote algwatch's SIP over UDP or TCP, orange where something intercepted SIP over TLS; no band where the run got no answer (see Probe runs).",
        gridPos: { x: 0, y: 0, w: 24, h: 5 },
        queries: [
          {
            // Only runs that got an answer: a blocked run's alg_detected=false would read as "clean".
            query: `SELECT last(${sipAlg.field('alg_detected')}) FROM ${sipAlg.raw} WHERE ${scope()} AND ${sipAlg.tag('result')} =~ /^(clean|detected)$/ GROUP BY ${perInterval(sipAlg.tag('transport'))} fill(none)`,
            alias: '$tag_transport',
          },
        ],
        defaults: { mappings: [ALG_MAPPING] },
        // Each series is named by its transport (the alias): TLS changed on the way is an interception, not an ALG.
        overrides: (['udp', 'tcp', 'tls'] as const).map((transport) => ({ matcher: { id: 'byName' as const, options: transport }, properties: [{ id: 'mappings', value: [algMapping(transport)] }] })),
      }),
      tablePanel({
        title: 'Rewritten SIP fields (newest result per transport)',
        description: 'What the ALG changed on the way out (outbound) and on the way back (inbound), from the newest sip_alg result.',
        gridPos: { x: 0, y: 5, w: 24, h: 6 },
        queries: [
          {
            query: `SELECT last(${sipAlg.field('alg_detected')}) AS "alg_detected", ${sipAlg.tag('result')}, ${sipAlg.field('rewritten_fields')}, ${sipAlg.field('rewrites_outbound')}, ${sipAlg.field('rewrites_inbound')}, ${sipAlg.field('rtt_ms')} FROM ${sipAlg.raw} WHERE ${scope()} GROUP BY ${sipAlg.tag('transport')}, ${sipAlg.tag('target')}`,
          },
        ],
        defaults: { mappings: [ALG_MAPPING] },
        overrides: [
          rename('Time', 'Result time'),
          rename('alg_detected', 'SIP ALG'),
          rename('rewritten_fields', 'Rewritten fields'),
          rename('rewrites_outbound', 'Rewrites outbound'),
          rename('rewrites_inbound', 'Rewrites inbound'),
          rename('rtt_ms', 'RTT', [{ id: 'unit', value: 'ms' }]),
        ],
      }),
      stateTimelinePanel({
        title: 'Public address seen by STUN',
        description: 'The public IP address the reflector saw: a change of colour is the NAT (or the ISP) handing out another address.',
        gridPos: { x: 0, y: 11, w: 12, h: 6 },
        queries: [
          {
            query: `SELECT last(${stunMapping.field('public_address')}) FROM ${stunMapping.raw} WHERE ${scope()} GROUP BY ${byTarget} fill(none)`,
            alias: '$tag_target',
          },
        ],
        defaults: { color: { mode: 'palette-classic' } },
      }),
      timeSeriesPanel(
        {
          title: 'Public port seen by STUN',
          description: 'The public UDP port of the mapping; a port that jumps between probes from the same local port means the NAT does not keep bindings.',
          gridPos: { x: 12, y: 11, w: 12, h: 6 },
          queries: [
            {
              query: `SELECT last(${stunMapping.field('public_port')}) FROM ${stunMapping.raw} WHERE ${scope()} GROUP BY ${byTarget} fill(none)`,
              alias: '$tag_target',
            },
          ],
          defaults: { decimals: 0, unit: 'none' },
        },
        { points: true },
      ),
      stateTimelinePanel({
        title: 'NAT mapping and filtering (RFC 4787)',
        description: 'Newest nat_behavior classification per interval.',
        gridPos: { x: 0, y: 17, w: 12, h: 6 },
        queries: [
          {
            query: `SELECT last(${natBehavior.field('mapping_code')}) AS "mapping" FROM ${natBehavior.raw} WHERE ${scope()} GROUP BY time($__interval) fill(none)`,
            alias: 'mapping',
          },
          {
            query: `SELECT last(${natBehavior.field('filtering_code')}) AS "filtering" FROM ${natBehavior.raw} WHERE ${scope()} GROUP BY time($__interval) fill(none)`,
            alias: 'filtering',
          },
        ],
        defaults: { mappings: [NAT_MAPPING_CODE_MAPPING] },
        overrides: [{ matcher: { id: 'byName', options: 'filtering' }, properties: [{ id: 'mappings', value: [NAT_FILTERING_CODE_MAPPING] }] }],
      }),
      tablePanel({
        title: 'STUN mappings, newest first',
        description: 'Every stun_mapping result: read down the list to see when the public address or port changed.',
        gridPos: { x: 12, y: 17, w: 12, h: 6 },
        queries: [
          {
            query: `SELECT ${stunMapping.field('public_address')}, ${stunMapping.field('public_port')}, ${stunMapping.field('port_preserved')}, ${stunMapping.field('nat_present')} FROM ${stunMapping.raw} WHERE ${scope()} GROUP BY ${stunMapping.tag('target')} ORDER BY time DESC LIMIT 100`,
          },
        ],
        overrides: [rename('public_address', 'Public address'), rename('public_port', 'Public port'), rename('port_preserved', 'Port preserved'), rename('nat_present', 'NAT present')],
      }),
      timeSeriesPanel(
        {
          title: 'UDP binding lifetime',
          description:
            `How long the NAT kept an idle UDP binding. Red at or below ${THRESHOLDS.bindingCriticalSeconds} s: even a ${THRESHOLDS.bindingCriticalSeconds} s keep-alive loses it; orange under ${THRESHOLDS.bindingWarningSeconds} s: phones re-registering every few minutes miss inbound calls. "At least" points: the binding outlived the longest wait tested.`,
          gridPos: { x: 0, y: 23, w: 24, h: 8 },
          queries: [
            {
              query: `SELECT mean(${bindingLifetime.field('udp_lifetime_s')}) FROM ${bindingLifetime.raw} WHERE ${scope()} GROUP BY ${perInterval(bindingLifetime.tag('target'))} fill(none)`,
              alias: 'lifetime $tag_target',
            },
            {
              query: `SELECT min(${bindingLifetime.field('lower_s')}) FROM ${bindingLifetime.raw} WHERE ${scope()} AND ${bindingLifetime.field('outlived_max')} = true GROUP BY ${perInterval(bindingLifetime.tag('target'))} fill(none)`,
              alias: 'at least $tag_target',
            },
          ],
          defaults: { unit: 's', min: 0, color: { mode: 'palette-classic' }, thresholds: LIFETIME_THRESHOLDS },
        },
        { points: true, thresholdsStyle: 'line+area' },
      ),
      timeSeriesPanel({
        title: 'Keep-alive round-trip time',
        description: `SIP OPTIONS and CRLF keep-alive (RFC 5626 §4.4.1) round-trip time per target and transport; the dashed line is ${THRESHOLDS.keepaliveRttSlowMs} ms, past which a peer counts as slow.`,
        gridPos: { x: 0, y: 31, w: 12, h: 8 },
        queries: [
          {
            query: `SELECT mean(${sipOptions.field('rtt_ms')}) FROM ${sipOptions.raw} WHERE ${scope()} GROUP BY ${byTargetTransport} fill(none)`,
            alias: 'OPTIONS $tag_target $tag_transport',
          },
          {
            query: `SELECT mean(${crlfKeepalive.field('rtt_ms')}) FROM ${crlfKeepalive.raw} WHERE ${scope()} GROUP BY ${byTargetTransport} fill(none)`,
            alias: 'CRLF $tag_target $tag_transport',
          },
        ],
        defaults: { unit: 'ms', min: 0, thresholds: RTT_THRESHOLDS },
      }, { thresholdsStyle: 'dashed' }),
      timeSeriesPanel({
        title: 'SIP OPTIONS loss',
        description: `Share of OPTIONS requests that got no answer, per target and transport; the dashed line is ${THRESHOLDS.keepaliveLossPct} %, past which a peer counts as lossy.`,
        gridPos: { x: 12, y: 31, w: 12, h: 8 },
        queries: [
          {
            query: `SELECT mean(${sipOptions.field('loss_pct')}) FROM ${sipOptions.raw} WHERE ${scope()} GROUP BY ${byTargetTransport} fill(none)`,
            alias: '$tag_target $tag_transport',
          },
        ],
        defaults: { unit: 'percent', min: 0, max: 100, thresholds: LOSS_THRESHOLDS },
      }, { thresholdsStyle: 'dashed' }),
      stateTimelinePanel({
        title: 'SIP OPTIONS status code',
        description: 'Newest final response code per target: green 2xx, orange any other final answer (an error to a keep-alive), blue 503 (the peer says it is in maintenance). No band: no answer.',
        gridPos: { x: 0, y: 39, w: 12, h: 6 },
        queries: [
          {
            query: `SELECT last(${sipOptions.field('status_code')}) FROM ${sipOptions.raw} WHERE ${scope()} GROUP BY ${byTargetTransport} fill(none)`,
            alias: '$tag_target $tag_transport',
          },
        ],
        defaults: { color: { mode: 'thresholds' }, thresholds: SIP_STATUS_THRESHOLDS },
      }),
      timeSeriesPanel(
        {
          title: 'CRLF keep-alives without a pong',
          description: 'Double-CRLF pings that got no CRLF pong (RFC 5626 §4.4.1), per target and transport.',
          gridPos: { x: 12, y: 39, w: 12, h: 6 },
          queries: [
            {
              query: `SELECT count(${crlfKeepalive.field('pong')}) FROM ${crlfKeepalive.raw} WHERE ${scope()} AND ${crlfKeepalive.field('pong')} = false GROUP BY ${byTargetTransport} fill(none)`,
              alias: '$tag_target $tag_transport',
            },
          ],
          defaults: { decimals: 0, min: 0, color: { mode: 'fixed', fixedColor: severityColor(FINDINGS.target_down.defaultSeverity) } },
        },
        { points: true },
      ),
      timeSeriesPanel({
        title: 'Test call MOS (rtp-path)',
        description: `ITU-T G.107 MOS of the rtp-path test call (G.711, measured delay, loss and jitter); the dashed lines are ${THRESHOLDS.rtpMosPoor} (some users dissatisfied) and ${THRESHOLDS.rtpMosCritical} (many). No point: media did not flow both ways (see the check's rtp verdict).`,
        gridPos: { x: 0, y: 45, w: 12, h: 8 },
        queries: [
          {
            query: `SELECT mean(${rtpPath.field('mos')}) FROM ${rtpPath.raw} WHERE ${scope()} GROUP BY ${perInterval(rtpPath.tag('target'))} fill(none)`,
            alias: '$tag_target',
          },
        ],
        defaults: { min: 1, max: 4.5, decimals: 2, thresholds: MOS_THRESHOLDS },
      }, { thresholdsStyle: 'dashed' }),
      timeSeriesPanel({
        title: 'Test call loss (rtp-path)',
        description: 'Share of RTP packets lost per direction: outbound is the agent to the reflector, inbound the reflector to the agent on the best return path.',
        gridPos: { x: 12, y: 45, w: 12, h: 8 },
        queries: [
          {
            query: `SELECT mean(${rtpPath.field('out_loss_pct')}) AS "outbound", mean(${rtpPath.field('in_loss_pct')}) AS "inbound" FROM ${rtpPath.raw} WHERE ${scope()} GROUP BY ${perInterval(rtpPath.tag('target'))} fill(none)`,
            alias: '$tag_target $col',
          },
        ],
        defaults: { unit: 'percent', min: 0, max: 100 },
      }),
      stateTimelinePanel({
        title: 'Probe runs',
        description:
          'Whether each probe ran and got its answer (probe_run, one point per result). Red where a run failed: timed out, got no answer (e.g. STUN blocked) or could not start; the probe panels above have a gap there.',
        gridPos: { x: 0, y: 53, w: 24, h: 6 },
        queries: [
          {
            query: `SELECT last(${probeRun.field('success')}) FROM ${probeRun.raw} WHERE ${scope()} GROUP BY ${perInterval(probeRun.tag('probe'), probeRun.tag('transport'))} fill(none)`,
            alias: '$tag_probe $tag_transport',
          },
        ],
        defaults: { mappings: [RUN_MAPPING] },
      }),
    ],
  });
}
