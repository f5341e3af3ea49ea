/**
 * Findings of the rtp-path probe: a test call's media that flows one way or not at all, an RTP
 * pinhole that lets any sender in, and a call quality (G.107 MOS) users notice. The verdict is for a
 * far end that sends media where the SDP says; when only symmetric RTP (comedia, latching) arrived,
 * calls work with far ends that latch and fail with those that do not, so one-way is a warning then.
 */
import type { ProbeResultMessage } from '../events.js';
import { RTP_INBOUND_PATHS, RTP_VERDICTS, rtpReportSchema, type RtpReport } from '../check-report.js';
import { raise, THRESHOLDS, type Finding, type FindingDefinition, type FindingPlace, type Severity } from './finding.js';

export const RTP_PATH_FINDINGS = {
  rtp_no_audio: {
    code: 'rtp_no_audio',
    source: 'rtp-path',
    defaultSeverity: 'critical',
    title: 'No audio: RTP passes in neither direction',
    impact: 'Calls connect but both sides hear silence: the router or firewall drops the media (RTP) while it lets SIP through.',
    remediation: 'Allow outbound UDP to the provider\'s media ports and the replies back (most routers do by default; look for a UDP or "VoIP" block rule), and turn off the SIP ALG so SDP is not rewritten to an address that does not reach the phones.',
  },
  rtp_one_way_audio: {
    code: 'rtp_one_way_audio',
    source: 'rtp-path',
    defaultSeverity: 'critical',
    title: 'One-way audio',
    impact: 'Calls connect but one side hears nothing: media reaches the far end in one direction only.',
    remediation: 'Turn off the SIP ALG, let the phones or PBX put their public address in SDP (STUN, or the PBX\'s external address setting), or have the provider enable symmetric RTP (comedia / NAT latching) for this site.',
  },
  rtp_pinhole_open: {
    code: 'rtp_pinhole_open',
    source: 'rtp-path',
    defaultSeverity: 'warning',
    title: 'RTP pinhole open to other senders',
    impact: 'Once a call\'s media path is open, the router lets in RTP from addresses or ports other than the far end\'s: anyone can inject audio or noise into calls.',
    remediation: 'Turn off the SIP ALG (its expectations admit any source port, or any address) and rely on the NAT\'s own address-and-port-dependent filtering with symmetric RTP.',
  },
  rtp_poor_mos: {
    code: 'rtp_poor_mos',
    source: 'rtp-path',
    defaultSeverity: 'warning',
    title: 'Poor call quality (MOS)',
    impact: 'Loss, jitter or delay on the path make calls choppy or laggy: users notice, and complain (G.107 rates this below "satisfied").',
    remediation: 'Find the loss or delay: a saturated uplink (apply QoS/DSCP EF for voice or limit bulk uploads), a bad Wi-Fi or cable segment, or the ISP; test again at a quiet time to compare.',
  },
} as const satisfies Record<string, FindingDefinition>;

/**
 * rtpMosSeverity grades a MOS: critical below THRESHOLDS.rtpMosCritical (G.107 Annex B: many users
 * dissatisfied, R < 60), a warning below THRESHOLDS.rtpMosPoor (R < 70: some users dissatisfied),
 * fine from there on.
 */
export function rtpMosSeverity(mos: number): Severity | null {
  if (mos < THRESHOLDS.rtpMosCritical) return 'critical';
  if (mos < THRESHOLDS.rtpMosPoor) return 'warning';
  return null;
}

/** rtpPathFindings grades one RTP path report (check's `rtp`, or a stored result's detail). */
export function rtpPathFindings(report: RtpReport, place: FindingPlace): Finding[] {
  const evidence = rtpEvidence(report);
  const findings: Finding[] = [];
  const cause = sdpCause(report);
  if (report.verdict === 'none') {
    findings.push(raise(RTP_PATH_FINDINGS.rtp_no_audio, place, {
      summary: `No RTP passed in either direction${report.reason ? `: ${report.reason}` : ''}`,
      evidence,
    }));
  } else if (report.verdict !== 'two-way') {
    const rescued = report.inboundPath === 'symmetric-only';
    const way = report.verdict === 'one-way-outbound-only' ? 'only this site\'s audio reaches the far end' : 'only the far end\'s audio reaches this site';
    findings.push(raise(RTP_PATH_FINDINGS.rtp_one_way_audio, place, {
      severity: rescued ? 'warning' : 'critical',
      summary: rescued
        ? `One-way audio unless the far end latches (symmetric RTP): media sent to the SDP address never arrived${cause ? `; ${cause}` : ''}`
        : `One-way audio: ${way}${cause ? `; ${cause}` : report.reason ? `; ${report.reason}` : ''}`,
      evidence,
    }));
  }
  if (report.pinholeOpenToOthers === true) {
    findings.push(raise(RTP_PATH_FINDINGS.rtp_pinhole_open, place, {
      summary: `RTP from ${pinholeSenders(report)} got through to the agent: the media pinhole admits senders other than the far end`,
      evidence,
    }));
  }
  const severity = report.mos === null ? null : rtpMosSeverity(report.mos);
  if (severity !== null && report.mos !== null) {
    findings.push(raise(RTP_PATH_FINDINGS.rtp_poor_mos, place, {
      severity,
      summary: `MOS ${report.mos.toFixed(2)} (R ${report.rFactor}): loss ${report.outbound.lossPct} % out / ${report.inbound.lossPct} % in, jitter ${report.outbound.jitterMs} / ${report.inbound.jitterMs} ms`,
      evidence,
    }));
  }
  return findings;
}

/**
 * sdpCause names why media sent to the SDP address cannot arrive: the SDP advertises an address
 * other than the one the site's media really comes from (a private address no ALG rewrote).
 */
function sdpCause(report: RtpReport): string | null {
  if (report.inboundPath === 'sdp' || !report.sdpReceived || !report.mediaSource) return null;
  const advertised = addressOf(report.sdpReceived);
  const actual = addressOf(report.mediaSource);
  if (advertised === actual) return null;
  return `the SDP carries ${advertised} but media comes from ${actual} (a private address in SDP that nothing rewrote)`;
}

function pinholeSenders(report: RtpReport): string {
  const from = report.pinholeOpenFrom ?? [];
  if (from.length === 1 && from[0] === 'other-port') return 'another port of the far end\'s address';
  if (from.length === 1 && from[0] === 'other-address') return 'another address (same port)';
  return 'another address and another port';
}

function addressOf(hostPort: string): string {
  return hostPort.startsWith('[') ? hostPort.slice(1, hostPort.indexOf(']')) : hostPort.replace(/:\d+$/, '');
}

function rtpEvidence(report: RtpReport): string[] {
  const direction = (name: string, d: RtpReport['outbound']) =>
    `${name}: sent ${d.sent}, received ${d.received}, loss ${d.lossPct} %, jitter ${d.jitterMs} ms, longest gap ${d.maxGapMs} ms`;
  return [
    ...(report.sdpSent ? [`SDP offer media ${report.sdpSent} as sent, ${report.sdpReceived ?? 'unknown'} as the reflector received it`] : []),
    ...(report.mediaSource ? [`agent RTP arrived from ${report.mediaSource}`] : []),
    `inbound path: ${report.inboundPath}`,
    direction('outbound (agent to reflector)', report.outbound),
    direction('inbound (reflector to agent)', report.inbound),
  ];
}

/**
 * rtpReportOf is the report a stored rtp-path result stands for: verdict, path and figures from its
 * `rtp_path` point (the point carries every verdict, so the status board can judge a result again
 * without its detail), the SDP addresses and reason from its detail when that parses (never
 * trusted: it comes from an agent). Null when the result has no point (the call was not set up).
 */
export function rtpReportOf(result: Pick<ProbeResultMessage, 'points' | 'detail'>): RtpReport | null {
  const point = result.points.find((candidate) => candidate.measurement === 'rtp_path');
  const verdict = RTP_VERDICTS.find((candidate) => candidate === point?.tags.result);
  const inboundPath = RTP_INBOUND_PATHS.find((candidate) => candidate === point?.tags.inbound_path);
  if (!point || !verdict || !inboundPath) return null;
  const number = (name: string): number => (typeof point.fields[name] === 'number' ? (point.fields[name] as number) : 0);
  const direction = (prefix: 'out' | 'in'): RtpReport['outbound'] => ({
    sent: number(`${prefix}_sent`),
    received: number(`${prefix}_received`),
    lossPct: number(`${prefix}_loss_pct`),
    jitterMs: number(`${prefix}_jitter_ms`),
    maxGapMs: number(`${prefix}_max_gap_ms`),
    reordered: number(`${prefix}_reordered`),
  });
  const detail = rtpReportSchema.safeParse(result.detail);
  const said = detail.success ? detail.data : null;
  const report: RtpReport = {
    verdict,
    inboundPath,
    outbound: direction('out'),
    inbound: direction('in'),
    rFactor: typeof point.fields.r_factor === 'number' ? point.fields.r_factor : null,
    mos: typeof point.fields.mos === 'number' ? point.fields.mos : null,
    sdpSent: said?.sdpSent ?? '',
    sdpReceived: said?.sdpReceived ?? null,
    mediaSource: said?.mediaSource ?? null,
    pinholeOpenToOthers: typeof point.fields.pinhole_open === 'boolean' ? point.fields.pinhole_open : null,
  };
  if (said?.pinholeOpenFrom) report.pinholeOpenFrom = said.pinholeOpenFrom;
  if (said?.reason) report.reason = said.reason;
  return report;
}
