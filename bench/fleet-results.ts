/**
 * The results a simulated agent fleet sends in the ingest benchmark: realistic ProbeResultMessages
 * (one sip_alg or stun_mapping point each, details shaped like the real probes'), the default
 * schedule's result rate, and the StoredPoints ingest makes of them (for the direct-write baseline).
 */
// Ids as the real agent makes them (time-ordered UUIDv7), so the server's indexes see real keys.
import { newResultId } from '../agent/src/probes/result-id.js';
import { DEFAULT_SCHEDULE, type AgentConfig, type ProbeResultMessage } from '@algwatch/protocol/events';
import { plannedRuns, SCHEDULE_SLOTS, type ScheduleSlot } from '../agent/src/daemon/scheduler.js';

const REFLECTOR = 'reflector.algwatch.test';

/** sipAlgResult is one transport's sip-alg run that found the path clean. */
export function sipAlgResult(startedAt: number, transport: 'udp' | 'tcp' | 'tls' = 'udp'): ProbeResultMessage {
  const rttMs = 18 + (startedAt % 97) / 10;
  return {
    id: newResultId(),
    probe: 'sip-alg',
    target: REFLECTOR,
    startedAt,
    durationMs: 2 * rttMs,
    success: true,
    points: [
      {
        measurement: 'sip_alg',
        tags: { target: REFLECTOR, transport, result: 'clean' },
        fields: { alg_detected: false, rewrites_outbound: 0, rewrites_inbound: 0, rewritten_fields: '', rtt_ms: rttMs },
      },
    ],
    detail: { status: 'clean', rewrites: [], rttMs },
  };
}

/** stunMappingResult is a stun-mapping run behind a port-preserving NAT. */
export function stunMappingResult(startedAt: number): ProbeResultMessage {
  const rttMs = 11 + (startedAt % 89) / 10;
  const localPort = 40_000 + (startedAt % 20_000);
  return {
    id: newResultId(),
    probe: 'stun-mapping',
    target: REFLECTOR,
    startedAt,
    durationMs: rttMs,
    success: true,
    points: [
      {
        measurement: 'stun_mapping',
        tags: { target: REFLECTOR, result: 'ok' },
        fields: { nat_present: true, public_address: '203.0.113.5', public_port: localPort, port_preserved: true, rtt_ms: rttMs },
      },
    ],
    detail: {
      localAddress: '192.0.2.10',
      localPort,
      publicAddress: '203.0.113.5',
      publicPort: localPort,
      natPresent: true,
      portPreserved: true,
      rttMs,
      otherAddress: null,
    },
  };
}

/** natBehaviorResult is a nat-behavior run: endpoint-independent mapping, address-dependent filtering. */
export function natBehaviorResult(startedAt: number): ProbeResultMessage {
  return {
    id: newResultId(),
    probe: 'nat-behavior',
    target: REFLECTOR,
    startedAt,
    durationMs: 3_200,
    success: true,
    points: [
      {
        measurement: 'nat_behavior',
        tags: { target: REFLECTOR, result: 'ok', mapping: 'endpoint-independent', filtering: 'address-dependent' },
        fields: { nat_present: true, mapping_code: 1, filtering_code: 2 },
      },
    ],
    detail: { present: true, publicAddress: '203.0.113.5', publicPort: 40_001, portPreserved: true, mapping: 'endpoint-independent', filtering: 'address-dependent' },
  };
}

/** bindingLifetimeResult is a binding-lifetime run that found a 120-180 s UDP binding. */
export function bindingLifetimeResult(startedAt: number): ProbeResultMessage {
  return {
    id: newResultId(),
    probe: 'binding-lifetime',
    target: REFLECTOR,
    startedAt,
    durationMs: 600_000,
    success: true,
    points: [
      {
        measurement: 'binding_lifetime',
        tags: { target: REFLECTOR, result: 'ok' },
        fields: { udp_lifetime_s: 120, lower_s: 120, upper_s: 180, outlived_max: false, elapsed_ms: 600_000 },
      },
    ],
    detail: { udpSeconds: 120, lowerSeconds: 120, upperSeconds: 180, elapsedMs: 600_000 },
  };
}

/** rtpPathResult is a two-way test call with no loss. */
export function rtpPathResult(startedAt: number): ProbeResultMessage {
  const direction = { sent: 250, received: 250, lossPct: 0, jitterMs: 0.5, maxGapMs: 25, reordered: 0 };
  return {
    id: newResultId(),
    probe: 'rtp-path',
    target: REFLECTOR,
    startedAt,
    durationMs: 5_600,
    success: true,
    points: [
      {
        measurement: 'rtp_path',
        tags: { target: REFLECTOR, transport: 'udp', result: 'two-way', inbound_path: 'sdp' },
        fields: { out_sent: 250, out_received: 250, out_loss_pct: 0, in_sent: 250, in_received: 250, in_loss_pct: 0, rtt_ms: 20, r_factor: 92.5, mos: 4.4 },
      },
    ],
    detail: { verdict: 'two-way', inboundPath: 'sdp', outbound: direction, inbound: direction, rFactor: 92.5, mos: 4.4, sdpSent: '192.0.2.10:20000', sdpReceived: '203.0.113.5:20000', pinholeOpenToOthers: false },
  };
}

/** slotResults is what one tick of a default-schedule slot hands the outbox (no SIP targets). */
export function slotResults(slot: ScheduleSlot, startedAt: number): ProbeResultMessage[] {
  switch (slot) {
    case 'sipAlg':
      return (['udp', 'tcp', 'tls'] as const).map((transport) => sipAlgResult(startedAt, transport));
    case 'stunMapping':
      return [stunMappingResult(startedAt)];
    case 'natBehavior':
      return [natBehaviorResult(startedAt)];
    case 'bindingLifetime':
      return [bindingLifetimeResult(startedAt)];
    case 'keepalive':
      return [];
    case 'rtpPath':
      return [rtpPathResult(startedAt)];
  }
}

/**
 * floodResult is an agent's n-th result in the throughput run: stun_mapping and sip_alg in turn,
 * one millisecond apart, so every point of an agent is its own (series, time) and none is deduped.
 */
export function floodResult(baseMs: number, n: number): ProbeResultMessage {
  return n % 2 === 0 ? stunMappingResult(baseMs + n) : sipAlgResult(baseMs + n);
}

/** storedPoints is what ingest stores for a result: the agent's points plus the token's tags. */
/** SlotRate is one schedule slot's period and how many results each of its ticks produces. */
export interface SlotRate {
  slot: ScheduleSlot;
  periodMs: number;
  resultsPerTick: number;
}

/**
 * The period of each default schedule slot. node-cron 3 (the agent's) has no next-run API, so the
 * bench states the periods and refuses to run when DEFAULT_SCHEDULE no longer says the same.
 */
const DEFAULT_PERIODS: Record<ScheduleSlot, { expression: string; periodMs: number }> = {
  sipAlg: { expression: '*/5 * * * *', periodMs: 5 * 60_000 },
  stunMapping: { expression: '* * * * *', periodMs: 60_000 },
  natBehavior: { expression: '0 * * * *', periodMs: 3_600_000 },
  bindingLifetime: { expression: '0 */6 * * *', periodMs: 6 * 3_600_000 },
  keepalive: { expression: '*/30 * * * * *', periodMs: 30_000 },
  rtpPath: { expression: '30 * * * *', periodMs: 3_600_000 },
};

/**
 * defaultScheduleRates takes each DEFAULT_SCHEDULE slot's period and counts its runs with the
 * agent's own plannedRuns, for a site without SIP targets (the keep-alive slot then runs nothing;
 * each target adds 1-2 results per 30 s).
 */
export function defaultScheduleRates(): SlotRate[] {
  const config: AgentConfig = { schedule: DEFAULT_SCHEDULE, targets: [], reflectorHost: REFLECTOR };
  const rates: SlotRate[] = [];
  for (const slot of SCHEDULE_SLOTS) {
    const known = DEFAULT_PERIODS[slot];
    if (known.expression !== DEFAULT_SCHEDULE[slot]) {
      throw new Error(`DEFAULT_SCHEDULE.${slot} is now "${DEFAULT_SCHEDULE[slot]}"; update its period in bench/fleet-results.ts`);
    }
    const resultsPerTick = plannedRuns(slot, config).length;
    if (resultsPerTick === 0) continue;
    rates.push({ slot, periodMs: known.periodMs, resultsPerTick });
  }
  return rates;
}

/** resultsPerAgentSecond is the default schedule's result rate of one agent. */
export function resultsPerAgentSecond(rates: SlotRate[]): number {
  return rates.reduce((sum, rate) => sum + (rate.resultsPerTick * 1000) / rate.periodMs, 0);
}
