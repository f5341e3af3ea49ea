/**
 * GET /api/sites/:siteId/history?from=MS&to=MS: the site page's charts, read from the time-series
 * store (InfluxDB or SQLite, through TimeSeriesStore.query): binding lifetime, keep-alive RTT and
 * loss per target, SIP ALG detected per transport (1/0), and the public address's changes.
 */
import type { SiteHistory } from '@algwatch/protocol/dashboard';
import type { MeasurementName } from '@algwatch/protocol/measurements';
import type { StoredPoint, TimeSeriesStore } from '../storage/time-series.js';
import { HttpError, sendJson, type WebRoute } from './http-kit.js';
import { visibleSiteOf, type SiteDirectory } from './site-directory.js';

const MAX_RANGE_MS = 31 * 24 * 3600 * 1000;
const DEFAULT_RANGE_MS = 24 * 3600 * 1000;
/** Points per measurement at most: a week of 30-second keep-alives to two targets fits. */
const MAX_POINTS = 50_000;

export interface HistoryRoutesDeps {
  directory: SiteDirectory;
  timeSeries: TimeSeriesStore;
}

export function historyRoutes(deps: HistoryRoutesDeps): WebRoute[] {
  return [
    {
      method: 'GET',
      path: /^\/api\/sites\/(?<siteId>[^/]+)\/history$/,
      access: 'api',
      async handle(ctx) {
        const listing = await visibleSiteOf(deps.directory, ctx);
        const now = Date.now();
        const to = numberParam(ctx.url.searchParams.get('to'), now);
        const from = numberParam(ctx.url.searchParams.get('from'), to - DEFAULT_RANGE_MS);
        if (from >= to || to - from > MAX_RANGE_MS) throw new HttpError(400, 'from must be before to, at most 31 days apart');
        const read = (measurement: MeasurementName) =>
          deps.timeSeries.query(measurement, { filter: { tenant: listing.tenant, site: listing.site }, fromMs: from, toMs: to, limit: MAX_POINTS });
        const [binding, options, crlf, alg, stun] = await Promise.all([read('binding_lifetime'), read('sip_options'), read('crlf_keepalive'), read('sip_alg'), read('stun_mapping')]).catch(
          (error: Error) => {
            throw new HttpError(503, `history unavailable: ${error.message.split('\n')[0] ?? ''}`);
          },
        );
        const history: SiteHistory = {
          from,
          to,
          series: [
            ...seriesOf(binding, () => 'binding lifetime', 'udp_lifetime_s', 's'),
            ...seriesOf(options, (p) => `OPTIONS RTT ${p.tags.target ?? ''} ${p.tags.transport ?? ''}`, 'rtt_ms', 'ms'),
            ...seriesOf(crlf, (p) => `CRLF RTT ${p.tags.target ?? ''} ${p.tags.transport ?? ''}`, 'rtt_ms', 'ms'),
            ...seriesOf(options, (p) => `loss ${p.tags.target ?? ''} ${p.tags.transport ?? ''}`, 'loss_pct', '%'),
            ...seriesOf(alg, (p) => `SIP ALG ${p.tags.transport ?? ''}`, 'alg_detected', 'detected'),
          ],
          addressChanges: addressChanges(stun),
        };
        sendJson(ctx.res, 200, history);
      },
    },
  ];
}

function numberParam(value: string | null, fallback: number): number {
  if (value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new HttpError(400, 'from and to are epoch milliseconds');
  return n;
}

/** seriesOf splits points into named series (by `nameOf`) of one field; booleans become 1/0. */
function seriesOf(points: StoredPoint[], nameOf: (point: StoredPoint) => string, field: string, unit: string): SiteHistory['series'] {
  const byName = new Map<string, Array<[number, number | null]>>();
  for (const point of points) {
    const value = point.fields[field];
    if (value === undefined || typeof value === 'string') continue;
    const name = nameOf(point).trim();
    let series = byName.get(name);
    if (!series) byName.set(name, (series = []));
    series.push([point.timestampMs, typeof value === 'boolean' ? Number(value) : value]);
  }
  return [...byName].map(([name, seriesPoints]) => ({ name, unit, points: seriesPoints }));
}

/** addressChanges lists when the public address became what it is, oldest first. */
function addressChanges(points: StoredPoint[]): SiteHistory['addressChanges'] {
  const changes: SiteHistory['addressChanges'] = [];
  for (const point of points) {
    const address = point.fields.public_address;
    if (typeof address !== 'string' || address === '') continue;
    if (changes.at(-1)?.address !== address) changes.push({ at: point.timestampMs, address });
  }
  return changes;
}
