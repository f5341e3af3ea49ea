/**
 * The time-series schema: every measurement an agent probe writes, its tags and its typed fields.
 *
 * Written once here and used by the probes (to build points), by ingest (to validate them), by the
 * InfluxDB writer (field types must never change: InfluxDB rejects a whole batch when a field that
 * was a float arrives as an integer) and by the Grafana dashboards. Units are in the field names.
 */
import * as z from './zod.js';

export type FieldType = 'float' | 'integer' | 'boolean' | 'string';

export interface MeasurementSchema {
  /** Tags the probe itself sets. Ingest adds `tenant`, `site` and `agent`. */
  tags: readonly string[];
  fields: Readonly<Record<string, FieldType>>;
}

export const INGEST_TAGS = ['tenant', 'site', 'agent'] as const;

export const MEASUREMENTS = {
  sip_alg: {
    tags: ['target', 'transport', 'result'],
    fields: {
      alg_detected: 'boolean',
      rewrites_outbound: 'integer',
      rewrites_inbound: 'integer',
      rewritten_fields: 'string',
      rtt_ms: 'float',
    },
  },
  stun_mapping: {
    tags: ['target', 'result'],
    fields: {
      nat_present: 'boolean',
      public_address: 'string',
      public_port: 'integer',
      port_preserved: 'boolean',
      rtt_ms: 'float',
    },
  },
  nat_behavior: {
    tags: ['target', 'result', 'mapping', 'filtering'],
    fields: {
      nat_present: 'boolean',
      // 0 unknown, 1 endpoint-independent, 2 address-dependent, 3 address-and-port-dependent
      mapping_code: 'integer',
      filtering_code: 'integer',
    },
  },
  binding_lifetime: {
    tags: ['target', 'result'],
    fields: {
      udp_lifetime_s: 'float',
      lower_s: 'float',
      upper_s: 'float',
      outlived_max: 'boolean',
      elapsed_ms: 'float',
    },
  },
  sip_options: {
    tags: ['target', 'transport', 'result'],
    fields: {
      rtt_ms: 'float',
      status_code: 'integer',
      loss_pct: 'float',
      public_address: 'string',
      public_port: 'integer',
    },
  },
  crlf_keepalive: {
    tags: ['target', 'transport', 'result'],
    fields: {
      rtt_ms: 'float',
      pong: 'boolean',
    },
  },
  rtp_path: {
    // result: two-way | one-way-outbound-only | one-way-inbound-only | none | error
    // inbound_path: sdp | symmetric-only | none
    tags: ['target', 'transport', 'result', 'inbound_path'],
    fields: {
      out_sent: 'integer',
      out_received: 'integer',
      out_loss_pct: 'float',
      out_jitter_ms: 'float',
      out_max_gap_ms: 'float',
      out_reordered: 'integer',
      in_sent: 'integer',
      in_received: 'integer',
      in_loss_pct: 'float',
      in_jitter_ms: 'float',
      in_max_gap_ms: 'float',
      in_reordered: 'integer',
      rtt_ms: 'float',
      r_factor: 'float',
      mos: 'float',
      pinhole_open: 'boolean',
      sdp_rewritten: 'boolean',
    },
  },
  // One point per result, written by ingest from the result itself (never sent by an agent), like
  // blackbox_exporter's probe_success: a run that failed, timed out or got no answer leaves no
  // probe point, and without this a blocked STUN port would be a gap on a dashboard, not a value.
  probe_run: {
    tags: ['probe', 'target', 'transport'],
    fields: {
      success: 'boolean',
      duration_ms: 'float',
    },
  },
  // One point per alert state change, written by the server's alert engine (never by an agent):
  // the "alert history" dashboard. state: pending | firing | resolved | cleared (pending that
  // never fired); target/transport tell apart alerts of one site changing in the same millisecond.
  alert: {
    tags: ['rule', 'severity', 'state', 'target', 'transport'],
    fields: {
      firing: 'boolean',
      summary: 'string',
      fingerprint: 'string',
    },
  },
} as const satisfies Record<string, MeasurementSchema>;

export type MeasurementName = keyof typeof MEASUREMENTS;
export const MEASUREMENT_NAMES = Object.keys(MEASUREMENTS) as MeasurementName[];

/** The measurements only the server writes (ingest, alerting); a point an agent sends in one of them is refused. */
export const INGEST_MEASUREMENTS: ReadonlySet<MeasurementName> = new Set(['probe_run', 'alert']);
/** The measurements probes write, the ones a result's points may name. */
export type ProbeMeasurementName = Exclude<MeasurementName, 'probe_run' | 'alert'>;
export const PROBE_MEASUREMENT_NAMES = MEASUREMENT_NAMES.filter((name) => !INGEST_MEASUREMENTS.has(name)) as ProbeMeasurementName[];

export const NAT_BEHAVIOURS = [
  'unknown',
  'endpoint-independent',
  'address-dependent',
  'address-and-port-dependent',
] as const;
export type NatBehaviour = (typeof NAT_BEHAVIOURS)[number];

/** natBehaviourCode maps a behaviour to the integer stored in `mapping_code` / `filtering_code`. */
export function natBehaviourCode(behaviour: NatBehaviour): number {
  return NAT_BEHAVIOURS.indexOf(behaviour);
}

export const metricPointSchema = z
  .object({
    measurement: z.enum(PROBE_MEASUREMENT_NAMES as [ProbeMeasurementName, ...ProbeMeasurementName[]]),
    tags: z.record(z.string().check(z.maxLength(64)), z.string().check(z.maxLength(256))),
    fields: z.record(z.string().check(z.maxLength(64)), z.union([z.number(), z.boolean(), z.string().check(z.maxLength(1024))])),
  })
  .check(z.superRefine((point, ctx) => {
    const schema: MeasurementSchema = MEASUREMENTS[point.measurement];
    for (const tag of Object.keys(point.tags)) {
      if (!schema.tags.includes(tag)) ctx.addIssue({ code: 'custom', message: `unknown tag ${point.measurement}.${tag}` });
    }
    for (const [name, value] of Object.entries(point.fields)) {
      const type = schema.fields[name];
      if (!type) {
        ctx.addIssue({ code: 'custom', message: `unknown field ${point.measurement}.${name}` });
      } else if (!fieldValueMatches(type, value)) {
        ctx.addIssue({ code: 'custom', message: `field ${point.measurement}.${name} must be ${type}` });
      }
    }
  }));

/** MetricPoint is one InfluxDB-shaped point as a probe produces it (time is the result's). */
export type MetricPoint = z.infer<typeof metricPointSchema>;

/** The largest magnitude a float field may hold. */
export const MAX_FLOAT_FIELD = 1e15;

/** fieldValueMatches tells whether a value may be stored in a field of that type. */
export function fieldValueMatches(type: FieldType, value: unknown): boolean {
  switch (type) {
    case 'float':
      // Finite is not enough: 1e308 is finite, and a sum or mean over it (continuous queries,
      // Grafana) is not. No measurement here comes near 1e15 (ms, s, %).
      return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_FLOAT_FIELD;
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
  }
}
