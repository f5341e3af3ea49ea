/** Test helpers: probe results as agents send them, for the rule and engine tests. */
import { randomUUID } from 'node:crypto';
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import type { SipRewrite } from '@algwatch/protocol/check-report';

const VIA_REWRITE: SipRewrite = {
  direction: 'outbound',
  field: 'Via',
  sent: 'SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bK1;rport',
  received: 'SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK1;rport',
};
const SDP_REWRITE: SipRewrite = { direction: 'outbound', field: 'SDP c=', sent: 'IN IP4 198.51.100.2', received: 'IN IP4 203.0.113.1' };

/** sipAlgResult is one sip-alg run over a transport: detected (with Via and SDP rewrites) or clean. */
export function sipAlgResult(transport: 'udp' | 'tcp' | 'tls', status: 'detected' | 'clean' | 'blocked', startedAt = Date.now()): ProbeResultMessage {
  const rewrites = status === 'detected' ? [VIA_REWRITE, SDP_REWRITE] : [];
  return {
    id: randomUUID(),
    probe: 'sip-alg',
    target: 'reflector',
    transport,
    startedAt,
    durationMs: 20,
    success: status !== 'blocked',
    detail: { status, rewrites, rttMs: status === 'blocked' ? null : 5 },
    points: [
      {
        measurement: 'sip_alg',
        tags: { target: 'reflector', transport, result: status },
        fields: { alg_detected: status === 'detected', rewrites_outbound: rewrites.length, rewrites_inbound: 0, rewritten_fields: rewrites.map((r) => r.field).join(',') },
      },
    ],
  };
}

/** optionsResult is one sip-options keep-alive to `pbx`: answered with a status, or timed out. */
export function optionsResult(outcome: { status: number; rttMs?: number; lossPct?: number } | 'timeout', startedAt = Date.now()): ProbeResultMessage {
  const answered = outcome !== 'timeout';
  const result = !answered ? 'timeout' : outcome.status < 300 ? 'ok' : 'error_response';
  return {
    id: randomUUID(),
    probe: 'sip-options',
    target: 'pbx',
    transport: 'udp',
    startedAt,
    durationMs: 30,
    success: result === 'ok',
    detail: null,
    points: [
      {
        measurement: 'sip_options',
        tags: { target: 'pbx', transport: 'udp', result },
        fields: answered ? { rtt_ms: outcome.rttMs ?? 20, status_code: outcome.status, loss_pct: outcome.lossPct ?? 0 } : { loss_pct: 100 },
      },
    ],
  };
}

/** stunResult is one stun-mapping run: the public address and whether the port was kept, or no answer. */
export function stunResult(mapping: { address: string; port?: number; preserved?: boolean } | 'no_answer', startedAt = Date.now()): ProbeResultMessage {
  const answered = mapping !== 'no_answer';
  return {
    id: randomUUID(),
    probe: 'stun-mapping',
    target: 'reflector',
    startedAt,
    durationMs: 10,
    success: answered,
    detail: null,
    points: answered
      ? [
          {
            measurement: 'stun_mapping',
            tags: { target: 'reflector', result: 'ok' },
            fields: { nat_present: true, public_address: mapping.address, public_port: mapping.port ?? 40000, port_preserved: mapping.preserved ?? true, rtt_ms: 3 },
          },
        ]
      : [],
  };
}

/** lifetimeResult is one binding-lifetime run that measured `seconds`. */
export function lifetimeResult(seconds: number, startedAt = Date.now()): ProbeResultMessage {
  return {
    id: randomUUID(),
    probe: 'binding-lifetime',
    target: 'reflector',
    startedAt,
    durationMs: 1000,
    success: true,
    detail: null,
    points: [{ measurement: 'binding_lifetime', tags: { target: 'reflector', result: 'ok' }, fields: { udp_lifetime_s: seconds, lower_s: seconds - 5, upper_s: seconds, outlived_max: false, elapsed_ms: 1000 } }],
  };
}

/** natResult is one nat-behavior run classifying the mapping (1 endpoint-independent .. 3 address-and-port-dependent). */
export function natResult(mappingCode: 1 | 2 | 3, startedAt = Date.now()): ProbeResultMessage {
  const names = ['unknown', 'endpoint-independent', 'address-dependent', 'address-and-port-dependent'] as const;
  return {
    id: randomUUID(),
    probe: 'nat-behavior',
    target: 'reflector',
    startedAt,
    durationMs: 100,
    success: true,
    detail: null,
    points: [
      {
        measurement: 'nat_behavior',
        tags: { target: 'reflector', result: 'ok', mapping: names[mappingCode], filtering: names[mappingCode] },
        fields: { nat_present: true, mapping_code: mappingCode, filtering_code: mappingCode },
      },
    ],
  };
}
