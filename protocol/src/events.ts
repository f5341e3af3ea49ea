/**
 * The agent <-> server wire contract, defined once. Agents connect to the socket.io namespace
 * `/agent` with `auth: { token, agentId }`. Every message is parsed with these schemas at the
 * boundary on both sides; every ack is `{ ok: true, ... } | { ok: false, error }`.
 */
import * as z from './zod.js';
import { metricPointSchema } from './measurements.js';
import { SIP_TRANSPORTS } from './check-report.js';
import { DETAIL_BOUNDS, jsonBoundsProblem } from './json-bounds.js';

export const PROTOCOL_VERSION = 1;
export const AGENT_NAMESPACE = '/agent';
/** Socket.io's maxHttpBufferSize for agents: a results batch larger than this is refused. */
export const MAX_MESSAGE_BYTES = 1_000_000;
export const MAX_RESULTS_PER_BATCH = 200;

export const PROBE_NAMES = ['sip-alg', 'stun-mapping', 'nat-behavior', 'binding-lifetime', 'sip-options', 'crlf-keepalive', 'rtp-path'] as const;
export type ProbeName = (typeof PROBE_NAMES)[number];

const portSchema = z.int().check(z.minimum(1), z.maximum(65535));

export const agentAuthSchema = z.object({
  token: z.string().check(z.minLength(16), z.maxLength(200)),
  agentId: z.string().check(z.minLength(1), z.maxLength(100)),
});
export type AgentAuth = z.infer<typeof agentAuthSchema>;

/** A SIP peer of the site that keep-alive probes watch: PBX, trunk, registrar. */
export const sipTargetSchema = z.object({
  name: z.string().check(z.minLength(1), z.maxLength(64)),
  host: z.string().check(z.minLength(1), z.maxLength(255)),
  port: portSchema,
  transport: z.enum(SIP_TRANSPORTS),
  keepalive: z._default(z.enum(['options', 'crlf', 'both']), 'options'),
});
export type SipTarget = z.infer<typeof sipTargetSchema>;

/**
 * Hourly, at half past (away from nat-behavior on the hour). Not the issue's 15 minutes: a run is
 * about 90 KB of media both ways and a reflector session, and the paths it tests change with router
 * configuration, not minute to minute; hourly is 2 MB a day per site instead of 9. A server that
 * predates the probe sends no `rtpPath` and gets this default.
 */
export const DEFAULT_RTP_PATH_SCHEDULE = '30 * * * *';

/** Cron expressions (node-cron syntax, optional seconds field) per probe; empty string disables. */
export const scheduleSchema = z.object({
  sipAlg: z.string().check(z.maxLength(100)),
  stunMapping: z.string().check(z.maxLength(100)),
  natBehavior: z.string().check(z.maxLength(100)),
  bindingLifetime: z.string().check(z.maxLength(100)),
  keepalive: z.string().check(z.maxLength(100)),
  /**
   * The rtp-path probe (5 s of G.711 both ways, about 100 KB on the wire per run). Optional with a
   * default, so schedules stored before the probe existed, and servers that never send it, still parse.
   */
  rtpPath: z._default(z.string().check(z.maxLength(100)), DEFAULT_RTP_PATH_SCHEDULE),
});
export type Schedule = z.infer<typeof scheduleSchema>;

export const DEFAULT_SCHEDULE: Schedule = {
  rtpPath: DEFAULT_RTP_PATH_SCHEDULE,
  sipAlg: '*/5 * * * *',
  stunMapping: '* * * * *',
  natBehavior: '0 * * * *',
  bindingLifetime: '0 */6 * * *',
  keepalive: '*/30 * * * * *',
};

export const agentConfigSchema = z.object({
  schedule: scheduleSchema,
  targets: z.array(sipTargetSchema).check(z.maxLength(50)),
  /** Where the agent's reflector probes point (host of the algwatch reflector). */
  reflectorHost: z.string().check(z.minLength(1), z.maxLength(255)),
  /**
   * The reflector's ports when they are not the standard ones (SIP 5060, SIP TLS 5061, STUN 3478);
   * optional, so servers that never send it stay compatible.
   */
  reflectorPorts: z.optional(z.partial(z.object({ sip: portSchema, tls: portSchema, stun: portSchema }))),
  /**
   * The key the agent signs its reflector probes with (protocol/probe-signature.ts), so they pay from
   * the site's budget rather than from its public address's. Optional both ways: an older server sends
   * none (the agent probes unsigned) and an older agent ignores it.
   */
  probeKey: z.optional(
    z.object({
      id: z.string().check(z.regex(/^[A-Za-z0-9_-]{16}$/)),
      /** 32 bytes, base64url. */
      secret: z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/)),
    }),
  ),
});
export type AgentConfig = z.infer<typeof agentConfigSchema>;

/**
 * A result's startedAt must fall in this window (ms since the epoch, 2000-01-01 to 2100-01-01): wide
 * enough for an agent whose clock is off, narrow enough that no time-series store overflows on it.
 */
export const STARTED_AT_RANGE = { min: 946_684_800_000, max: 4_102_444_800_000 } as const;
/** No probe runs longer than a day; a larger durationMs is a broken or hostile agent. */
export const MAX_DURATION_MS = 86_400_000;

/** resultDetailSchema: any JSON data within DETAIL_BOUNDS (probe-specific, e.g. the SIP rewrites). */
export const resultDetailSchema = z.unknown().check(
  z.superRefine((detail, ctx) => {
    const problem = jsonBoundsProblem(detail, DETAIL_BOUNDS);
    if (problem) ctx.addIssue({ code: 'custom', message: `detail has ${problem}`, input: detail });
  }),
);

export const probeResultSchema = z.object({
  id: z.uuid(),
  probe: z.enum(PROBE_NAMES),
  target: z.string().check(z.maxLength(300)),
  /** The run's SIP transport, for probes that take one: it tells apart the runs of one tick. */
  transport: z.optional(z.enum(SIP_TRANSPORTS)),
  startedAt: z.int().check(z.minimum(STARTED_AT_RANGE.min), z.maximum(STARTED_AT_RANGE.max)),
  durationMs: z.number().check(z.nonnegative(), z.maximum(MAX_DURATION_MS)),
  success: z.boolean(),
  error: z.optional(z.string().check(z.maxLength(500))),
  points: z.array(metricPointSchema).check(z.maxLength(16)),
  /** Probe-specific JSON (e.g. the SIP rewrites), bounded by DETAIL_BOUNDS. */
  detail: resultDetailSchema,
});
export type ProbeResultMessage = z.infer<typeof probeResultSchema>;

export const helloSchema = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
  agentVersion: z.string().check(z.maxLength(50)),
  hostname: z.string().check(z.maxLength(255)),
});
export type Hello = z.infer<typeof helloSchema>;

export const resultsBatchSchema = z.object({
  results: z.array(probeResultSchema).check(z.minLength(1), z.maxLength(MAX_RESULTS_PER_BATCH)),
});
export type ResultsBatch = z.infer<typeof resultsBatchSchema>;

export const heartbeatSchema = z.object({
  at: z.int().check(z.minimum(STARTED_AT_RANGE.min), z.maximum(STARTED_AT_RANGE.max)),
  outboxDepth: z.int().check(z.nonnegative(), z.maximum(100_000_000)),
  rssBytes: z.int().check(z.nonnegative(), z.maximum(2 ** 48)),
  uptimeS: z.number().check(z.nonnegative(), z.maximum(1e10)),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

export const runNowSchema = z.object({ probes: z.array(z.enum(PROBE_NAMES)).check(z.minLength(1)) });
export type RunNow = z.infer<typeof runNowSchema>;

export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: string };

/**
 * AGENT_CONNECT_ERRORS are the `connect_error` messages the server's `/agent` middleware refuses a
 * connection with (`next(new Error(AGENT_CONNECT_ERRORS.tokenRefused))`). The agent stops on
 * `tokenRefused` and `badAgentId` (retrying cannot help) and retries with backoff on anything else.
 */
export const AGENT_CONNECT_ERRORS = {
  /** The token is unknown, revoked or malformed: the agent exits with code 2 and asks for a new enrolment. */
  tokenRefused: 'invalid agent token',
  /** auth.agentId did not match agentAuthSchema: the agent exits with code 2. */
  badAgentId: 'invalid agent id',
  /** The server could not check the token right now (database down): the agent retries. */
  serverUnavailable: 'server unavailable, retry later',
  /** Too many refused logins came from this address lately: the agent retries with backoff. */
  tooManyFailedLogins: 'too many failed logins from this address, retry later',
} as const;

/** The ack of `hello`: the site this agent's token belongs to and the config to run. */
export const helloAckSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), siteId: z.string(), siteName: z.string(), config: agentConfigSchema }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type HelloAck = z.infer<typeof helloAckSchema>;

/**
 * A result the server will never store (it failed probeResultSchema): the agent drops it from its
 * outbox with a warning instead of resending it forever. Optional in the ack, so older servers that
 * only send `accepted` stay compatible.
 */
export const rejectedResultSchema = z.object({ id: z.string(), error: z.string() });
export type RejectedResult = z.infer<typeof rejectedResultSchema>;

/** The ack of `results`: ids stored (now or before: a resend is not an error), ids refused for good. */
export const resultsAckSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), accepted: z.array(z.string()), rejected: z.optional(z.array(rejectedResultSchema)) }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type ResultsAck = z.infer<typeof resultsAckSchema>;

export interface AgentToServerEvents {
  hello: (hello: Hello, ack: (reply: Ack<{ siteId: string; siteName: string; config: AgentConfig }>) => void) => void;
  /**
   * accepted: ids now stored (or already stored before: a resend is not an error); the agent removes
   * a result from its outbox only once its id is listed here or in rejected. ok:false means "try the
   * whole batch again later" (e.g. the store is down).
   */
  results: (batch: ResultsBatch, ack: (reply: Ack<{ accepted: string[]; rejected?: RejectedResult[] }>) => void) => void;
  heartbeat: (beat: Heartbeat) => void;
}

export interface ServerToAgentEvents {
  config: (config: AgentConfig) => void;
  runNow: (request: RunNow) => void;
}
