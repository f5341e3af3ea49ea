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
  problems: z.array(problemSchema),
});
export type CheckReport = z.infer<typeof checkReportSchema>;
