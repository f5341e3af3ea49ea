/**
 * `algwatch-agent check`: the one-shot diagnosis a technician runs at a site. Runs the SIP ALG
 * probe over UDP, TCP and TLS, the STUN mapping and RFC 5780 behaviour probes, and on request the
 * binding-lifetime probe, against algwatch's reflector; prints verdicts or one JSON document.
 * Exit codes: 0 no problems, 1 problems found, 2 could not run.
 */
import { lookup } from 'node:dns/promises';
import { parseArgs } from 'node:util';
import {
  checkReportSchema,
  type BindingLifetimeReport,
  type CheckReport,
  type NatReport,
  type RtpReport,
  type SipAlgTransportReport,
  type SipTransport,
} from '@algwatch/protocol/check-report';
import { findProblems } from '../check/problems.js';
import { renderHumanReport } from '../check/human-report.js';
import { runProbe, type ProbeRun } from '../probes/runner.js';
import { sipAlgProbe } from '../probes/sip-alg.js';
import { stunMappingProbe, type StunMappingDetail } from '../probes/stun-mapping.js';
import { natBehaviorProbe, type NatBehaviorDetail } from '../probes/nat-behavior.js';
import { bindingLifetimeProbe } from '../probes/binding-lifetime.js';
import { rtpPathProbe } from '../probes/rtp-path.js';
import { flagError } from '@algwatch/protocol/cli-flags';
import { REFLECTOR_BUSY, probeKeyOfToken, type ProbeKey } from '@algwatch/protocol/probe-signature';
import type { ProbeTarget } from '../probes/probe.js';

export const CHECK_USAGE =
  'usage: algwatch-agent check --server HOST [--token TOKEN] [--json] [--binding-lifetime] [--max-lifetime SECONDS] [--rtp] [--rtp-seconds N] [--rtp-payload BYTES] [--sip-port N] [--tls-port N] [--stun-port N]';

interface CheckOptions {
  server: string;
  json: boolean;
  bindingLifetime: boolean;
  maxLifetimeSeconds: number;
  rtp: boolean;
  rtpSeconds: number;
  rtpPayloadBytes: number;
  sipPort: number;
  tlsPort: number;
  stunPort: number;
  /** From the site's agent token (--token or ALGWATCH_TOKEN): probes are signed and pay from the site's budget. */
  probeKey?: ProbeKey;
}

class UsageError extends Error {}

export async function checkCommand(argv: string[]): Promise<number> {
  let options: CheckOptions;
  try {
    options = parseCheckOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`algwatch-agent check: ${err.message}\n${CHECK_USAGE}\n`);
    return 2;
  }
  try {
    await lookup(options.server);
  } catch (err) {
    process.stderr.write(`algwatch-agent check: cannot resolve ${options.server} (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'})\n`);
    return 2;
  }
  const report = await runCheck(options);
  if (report === null) {
    process.stderr.write(
      `algwatch-agent check: no answer from an algwatch reflector at ${options.server} ` +
        `(STUN udp/${options.stunPort}, SIP udp+tcp/${options.sipPort}, tls/${options.tlsPort}): is the server running and reachable from here?\n`,
    );
    return 2;
  }
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderHumanReport(report));
  return report.problems.some((problem) => problem.severity !== 'info') ? 1 : 0;
}

function parseCheckOptions(argv: string[]): CheckOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: bindTokenValue(argv),
      strict: true,
      allowPositionals: false,
      options: {
        server: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean' },
        'binding-lifetime': { type: 'boolean' },
        'max-lifetime': { type: 'string' },
        rtp: { type: 'boolean' },
        'rtp-seconds': { type: 'string' },
        'rtp-payload': { type: 'string' },
        'sip-port': { type: 'string' },
        'tls-port': { type: 'string' },
        'stun-port': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError(flagError(err));
  }
  const problems: string[] = [];
  const server = values.server ?? process.env.ALGWATCH_SERVER;
  if (!server) problems.push('--server HOST is required (the algwatch server whose reflector to test against)');
  const number = (flag: string, raw: string | undefined, fallback: number, min: number, max: number) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`--${flag} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const options: CheckOptions = {
    server: (server ?? '').replace(/^[a-z]+:\/\//, '').replace(/[:/].*$/, ''),
    json: values.json === true,
    bindingLifetime: values['binding-lifetime'] === true,
    maxLifetimeSeconds: number('max-lifetime', values['max-lifetime'], 300, 2, 3600),
    rtp: values.rtp === true,
    rtpSeconds: number('rtp-seconds', values['rtp-seconds'], 5, 1, 30),
    rtpPayloadBytes: number('rtp-payload', values['rtp-payload'], 160, 32, 320),
    sipPort: number('sip-port', values['sip-port'], 5060, 1, 65535),
    tlsPort: number('tls-port', values['tls-port'], 5061, 1, 65535),
    stunPort: number('stun-port', values['stun-port'], 3478, 1, 65535),
  };
  const token = values.token ?? process.env.ALGWATCH_TOKEN;
  if (token !== undefined && token !== '') options.probeKey = probeKeyOfToken(token);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return options;
}

/**
 * bindTokenValue writes `--token VALUE` as `--token=VALUE`: a token is base64url and may start with
 * "-", which parseArgs would otherwise refuse as an ambiguous value.
 */
function bindTokenValue(argv: readonly string[]): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i] === '--token' && next !== undefined) {
      args.push(`--token=${next}`);
      i++;
    } else args.push(argv[i]!);
  }
  return args;
}

/** runCheck runs every probe of the check; null when nothing at all answered (reflector unreachable). */
async function runCheck(options: CheckOptions): Promise<CheckReport | null> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  // With a token, every reflector probe is signed: a spoofed flood from this site's address cannot
  // empty the budget that pays for its answers (without one, the address's budget pays, as before).
  const target: ProbeTarget = { host: options.server, ...(options.probeKey ? { probeKey: options.probeKey } : {}) };
  const sipRun = (transport: SipTransport) =>
    runProbe(sipAlgProbe, target, { transport, port: transport === 'tls' ? options.tlsPort : options.sipPort });
  const [udp, tcp, tls, mapping, behaviour] = await Promise.all([
    sipRun('udp'),
    sipRun('tcp'),
    sipRun('tls'),
    runProbe(stunMappingProbe, target, { port: options.stunPort }),
    runProbe(natBehaviorProbe, target, { port: options.stunPort }),
  ]);
  const sipAlg = { udp: sipReport(udp), tcp: sipReport(tcp), tls: sipReport(tls) };
  const anySipAnswer = Object.values(sipAlg).some((report) => report.status === 'clean' || report.status === 'detected' || report.status === 'busy');
  const stunBusy = mapping.error?.startsWith(REFLECTOR_BUSY) === true;
  if (!anySipAnswer && !mapping.success && !stunBusy) return null;
  if (stunBusy && !options.json) process.stderr.write(`  STUN not tested: ${mapping.error}\n`);

  const nat = natReport(mapping, behaviour);
  let lifetime: BindingLifetimeReport | null = null;
  if (options.bindingLifetime) {
    const progress = options.json ? () => {} : (message: string) => process.stderr.write(`  ${message}\n`);
    if (!options.json) process.stderr.write(`Measuring the UDP binding lifetime (up to ${options.maxLifetimeSeconds} s)...\n`);
    const run = await runProbe(
      bindingLifetimeProbe,
      target,
      { port: options.stunPort, maxLifetimeSeconds: options.maxLifetimeSeconds },
      { timeoutMs: (options.maxLifetimeSeconds + 30) * 1000, progress },
    );
    lifetime = run.success ? run.detail : null;
    if (!run.success && !options.json) process.stderr.write(`  binding lifetime not measured: ${run.error ?? 'no answer'}\n`);
  }
  let rtp: RtpReport | undefined;
  if (options.rtp) {
    // After the other probes, so their packets do not count against the call's jitter and loss.
    if (!options.json) process.stderr.write(`Test call: ${options.rtpSeconds} s of G.711 RTP both ways...\n`);
    const run = await runProbe(rtpPathProbe, target, { port: options.sipPort, durationMs: options.rtpSeconds * 1000, payloadBytes: options.rtpPayloadBytes });
    rtp = run.detail ?? {
      verdict: 'none', inboundPath: 'none', rFactor: null, mos: null, sdpSent: '', sdpReceived: null, pinholeOpenToOthers: null,
      outbound: { sent: 0, received: 0, lossPct: 0, jitterMs: 0, maxGapMs: 0 }, inbound: { sent: 0, received: 0, lossPct: 0, jitterMs: 0, maxGapMs: 0 },
      reason: run.error ?? 'probe failed',
    };
  }
  const report: CheckReport = {
    version: 1,
    server: options.server,
    startedAt,
    durationMs: Math.round(performance.now() - started),
    sipAlg,
    nat,
    bindingLifetime: lifetime,
    ...(rtp ? { rtp } : {}),
    problems: findProblems(sipAlg, nat, lifetime, { stunBusy, rtp }),
  };
  // The JSON is a published contract: never print a document that does not match it.
  return checkReportSchema.parse(report);
}

function sipReport(run: ProbeRun<SipAlgTransportReport>): SipAlgTransportReport {
  if (run.detail) return run.detail;
  return { status: 'error', rewrites: [], rttMs: null, reason: run.error ?? 'probe failed' };
}

function natReport(mapping: ProbeRun<StunMappingDetail | null>, behaviour: ProbeRun<NatBehaviorDetail | null>): NatReport | null {
  const found = mapping.detail;
  if (!mapping.success || !found) return null;
  return {
    present: found.natPresent,
    localAddress: found.localAddress,
    localPort: found.localPort,
    publicAddress: found.publicAddress,
    publicPort: found.publicPort,
    portPreserved: found.portPreserved,
    mapping: behaviour.detail?.mapping ?? 'unknown',
    filtering: behaviour.detail?.filtering ?? 'unknown',
  };
}
