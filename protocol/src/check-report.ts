/**
 * The document `algwatch-agent check --json` prints. Documented in the README; the schema is the
 * contract that scripts at MSPs parse, so fields are only ever added, never renamed.
 */
import * as z from './zod.js';
import { NAT_BEHAVIOURS } from './measurements.js';

export const SIP_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export type SipTransport = (typeof SIP_TRANSPORTS)[number];

export const sipRewriteSchema = z.object({
  /** outbound: changed between the agent and the reflector; inbound: on the way back. */
  direction: z.enum(['outbound', 'inbound']),
  /** Header name (`Via`, `Contact`...), SDP line (`SDP c=`), or `Request-Line` / `Status-Line`. */
  field: z.string(),
  sent: z.string(),
  received: z.string(),
});
export type SipRewrite = z.infer<typeof sipRewriteSchema>;

/**
 * busy: the reflector answered a signed probe "busy" (its site spent its reflector budget); nothing is
 * known about the path then, and it is not "blocked". Added after version 1 was published (additive).
 */
export const sipAlgStatusSchema = z.enum(['detected', 'clean', 'blocked', 'error', 'busy']);
export type SipAlgStatus = z.infer<typeof sipAlgStatusSchema>;

export const sipAlgTransportReportSchema = z.object({
  status: sipAlgStatusSchema,
  rewrites: z.array(sipRewriteSchema),
  rttMs: z.nullable(z.number()),
  /** Why status is blocked, error or busy, in one line. */
  reason: z.optional(z.string()),
});
export type SipAlgTransportReport = z.infer<typeof sipAlgTransportReportSchema>;

const natBehaviourSchema = z.enum(NAT_BEHAVIOURS);

export const natReportSchema = z.object({
  present: z.boolean(),
  localAddress: z.optional(z.string()),
  localPort: z.optional(z.int()),
  publicAddress: z.string(),
  publicPort: z.int(),
  portPreserved: z.boolean(),
  mapping: natBehaviourSchema,
  filtering: natBehaviourSchema,
});
export type NatReport = z.infer<typeof natReportSchema>;

export const bindingLifetimeReportSchema = z.object({
  udpSeconds: z.nullable(z.number()),
  lowerSeconds: z.number(),
  upperSeconds: z.number(),
  elapsedMs: z.number(),
});
export type BindingLifetimeReport = z.infer<typeof bindingLifetimeReportSchema>;

export const RTP_VERDICTS = ['two-way', 'one-way-outbound-only', 'one-way-inbound-only', 'none'] as const;
export type RtpVerdict = (typeof RTP_VERDICTS)[number];
export const RTP_INBOUND_PATHS = ['sdp', 'symmetric-only', 'none'] as const;
export type RtpInboundPath = (typeof RTP_INBOUND_PATHS)[number];

/** One direction of an RTP path test: what was sent, what arrived, and how (RFC 3550 receiver figures). */
export const rtpDirectionSchema = z.object({
  sent: z.int(),
  received: z.int(),
  lossPct: z.number(),
  /** RFC 3550 §6.4.1 interarrival jitter. */
  jitterMs: z.number(),
  /** Longest time between two arrivals. */
  maxGapMs: z.number(),
  /** Packets that arrived after a later one. */
  reordered: z.optional(z.int()),
});
export type RtpDirection = z.infer<typeof rtpDirectionSchema>;

/** `check --rtp`: the rtp-path probe's answer to "will a call through here have audio, both ways?". */
export const rtpReportSchema = z.object({
  /** For a far end that sends media to the SDP address (does not latch onto the source). */
  verdict: z.enum(RTP_VERDICTS),
  /** Which reflector stream reached the agent: the one sent to the SDP address, only the symmetric (comedia) one, or none. */
  inboundPath: z.enum(RTP_INBOUND_PATHS),
  /** Agent to reflector. */
  outbound: rtpDirectionSchema,
  /** Reflector to agent, on the best path that worked. */
  inbound: rtpDirectionSchema,
  /** ITU-T G.107 E-model rating of the worse direction (null when media did not flow both ways). */
  rFactor: z.nullable(z.number()),
  mos: z.nullable(z.number()),
  /** The media address:port the agent's SDP offer carried as it was sent... */
  sdpSent: z.string(),
  /** ...and as the reflector received it (after any ALG rewrite); null when the INVITE got no answer. */
  sdpReceived: z.nullable(z.string()),
  /** Where the agent's RTP came from as the reflector saw it (the NAT's public side). */
  mediaSource: z.optional(z.nullable(z.string())),
  /** Packets from the reflector's other address or port reached the agent: the RTP pinhole admits anyone. Null when not tested. */
  pinholeOpenToOthers: z.nullable(z.boolean()),
  /** Which of those got in: the reflector's alternate address, another port of its own address. */
  pinholeOpenFrom: z.optional(z.array(z.enum(['other-address', 'other-port']))),
  rttMs: z.optional(z.nullable(z.number())),
  /** Why media failed, or why the test could not run, in one line. */
  reason: z.optional(z.string()),
});
export type RtpReport = z.infer<typeof rtpReportSchema>;

export const problemSchema = z.object({
  code: z.string(),
  severity: z.enum(['critical', 'warning', 'info']),
  summary: z.string(),
  remediation: z.string(),
});
export type Problem = z.infer<typeof problemSchema>;

export const checkReportSchema = z.object({
  version: z.literal(1),
  server: z.string(),
  startedAt: z.string(),
  durationMs: z.number(),
  sipAlg: z.object({ udp: sipAlgTransportReportSchema, tcp: sipAlgTransportReportSchema, tls: sipAlgTransportReportSchema }),
  nat: z.nullable(natReportSchema),
  bindingLifetime: z.nullable(bindingLifetimeReportSchema),
  /** Present with `check --rtp`. */
  rtp: z.optional(rtpReportSchema),
  problems: z.array(problemSchema),
});
export type CheckReport = z.infer<typeof checkReportSchema>;
