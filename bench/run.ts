/**
 * `npm run bench [-- NAME...]`: runs the benchmarks and prints each figure with its goal and the
 * baseline measured in the same run. Figures, never assertions: this machine is shared and noisy.
 */
import { formatFigure, type BenchFigure } from './figures.js';
import { benchStunThroughput } from './stun-throughput.js';
import { benchAlgVerdict } from './alg-verdict.js';
import { benchBindingLifetime } from './binding-lifetime.js';
import { benchIngest } from './ingest.js';
import { benchAgentFootprint } from './agent-footprint.js';
import { benchAgentSoak } from './agent-soak.js';
import { benchDashboardFleet } from './dashboard-fleet.js';
import { benchDashboardLive } from './dashboard-live.js';
import { benchAlerting } from './alerting.js';
import { benchReflection } from './reflection.js';
import { benchIngestBounds } from './ingest-bounds.js';
import { benchNestedAttack } from './nested-attack.js';
import { benchRtpSessions } from './rtp-sessions.js';

const BENCHES: Record<string, () => Promise<BenchFigure[]>> = {
  'alg-verdict': benchAlgVerdict,
  stun: benchStunThroughput,
  'binding-lifetime': benchBindingLifetime,
  ingest: benchIngest,
  'agent-footprint': benchAgentFootprint,
  'agent-soak': benchAgentSoak,
  'dashboard-fleet': benchDashboardFleet,
  'dashboard-live': benchDashboardLive,
  alerting: benchAlerting,
  reflection: benchReflection,
  'ingest-bounds': benchIngestBounds,
  'nested-attack': benchNestedAttack,
  'rtp-sessions': benchRtpSessions,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}\n`);
  process.exit(2);
}
let failed = false;
for (const [name, bench] of Object.entries(BENCHES)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  process.stdout.write(`\n== ${name}\n`);
  try {
    for (const figure of await bench()) process.stdout.write(`${formatFigure(figure)}\n`);
  } catch (err) {
    failed = true;
    process.stdout.write(`${name}: could not run: ${(err as Error).message}\n`);
  }
}
process.exit(failed ? 1 : 0);
