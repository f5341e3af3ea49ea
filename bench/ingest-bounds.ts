/**
 * The bounds' cost on ingest (issue 16): the CPU work ingest does per results packet before storage,
 * measured in-process on realistic batches (200 results of the throughput run's mix, as an outbox
 * flush sends them), because the full rig (bench/ingest-throughput.ts: influxd and 500 agents) is
 * dominated by the write and too slow to show a few per cent:
 * - now: socket.io's decoder behind the nesting scan (bounded-parser.ts), then readProbeResult with
 *   the detail and number bounds; and, as a second figure, plus the content fingerprint of every
 *   result (result-fingerprint.ts, result ids unique per site);
 * - baseline: socket.io's plain decoder and readProbeResult as it was before the bounds (commit
 *   c009251's parent, read from git), in the same run.
 * Each is timed in CPU time in alternating rounds; the best round of each counts (the box is shared and noisy).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Decoder } from 'socket.io-parser';
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import { readProbeResult } from '../protocol/src/result-check.js';
import { boundedSocketIoParser } from '../server/src/ingest/bounded-parser.js';
import { resultFingerprint } from '../server/src/ingest/result-fingerprint.js';
import type { BenchFigure } from './figures.js';
import { floodResult } from './fleet-results.js';

const BOUNDS_COMMIT = 'c009251';
const BATCHES = 50;
const ROUNDS = 15;
const REPO = fileURLToPath(new URL('../', import.meta.url));

type Validator = (raw: unknown) => ProbeResultMessage | null;

/** previousValidator loads readProbeResult as it was before the bounds, from git. */
async function previousValidator(): Promise<Validator> {
  const source = execFileSync('git', ['show', `${BOUNDS_COMMIT}^:protocol/src/result-check.ts`], { cwd: REPO, encoding: 'utf8' });
  const dir = fileURLToPath(new URL('./.previous/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}result-check-before-bounds.ts`;
  writeFileSync(file, source.replaceAll("from './", "from '../../protocol/src/"));
  try {
    const module = (await import(pathToFileURL(file).href)) as { readProbeResult: Validator };
    return module.readProbeResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** packetsOf is BATCHES socket.io EVENT packets of 200 results each, as an agent writes them. */
function packets(): string[] {
  const base = Date.now() - 3_600_000;
  return Array.from({ length: BATCHES }, (_, batch) => {
    const results = Array.from({ length: 200 }, (_, n) => floodResult(base, batch * 200 + n));
    return `2/agent,${batch}["results",${JSON.stringify({ results })}]`;
  });
}

/** ingestWork decodes every packet and validates every result; returns results per CPU second. */
function ingestWork(texts: readonly string[], makeDecoder: () => Decoder, validate: Validator, fingerprint: boolean): number {
  let accepted = 0;
  // CPU time, not wall time: on a shared box another process's turn is not ingest's cost.
  const started = process.cpuUsage();
  for (const text of texts) {
    const decoder = makeDecoder();
    decoder.on('decoded', (packet: { data?: unknown }) => {
      for (const raw of (packet.data as [string, { results: unknown[] }])[1].results) {
        const result = validate(raw);
        if (!result) throw new Error('a realistic result was refused');
        if (fingerprint) resultFingerprint('agent-1', result);
        accepted++;
      }
    });
    decoder.add(text);
  }
  const used = process.cpuUsage(started);
  return accepted / ((used.user + used.system) / 1e6);
}

export async function benchIngestBounds(): Promise<BenchFigure[]> {
  const previous = await previousValidator();
  const texts = packets();
  const runs = {
    baseline: () => ingestWork(texts, () => new Decoder(), previous, false),
    bounded: () => ingestWork(texts, () => new boundedSocketIoParser.Decoder(), readProbeResult, false),
    fingerprinted: () => ingestWork(texts, () => new boundedSocketIoParser.Decoder(), readProbeResult, true),
  };
  const best = { baseline: 0, bounded: 0, fingerprinted: 0 };
  for (const run of Object.values(runs)) run(); // warm-up: JIT and caches for all three
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(runs) as Array<[keyof typeof best, () => number]>) best[name] = Math.max(best[name], run());
  }
  const baselineName = `plain decoder + validator before the bounds (${BOUNDS_COMMIT}^)`;
  return [
    { name: 'ingest decode+validate with the bounds', value: best.bounded, unit: 'results/s', baseline: best.baseline, baselineName, goal: '≥ 0.95× baseline', met: best.bounded >= 0.95 * best.baseline },
    {
      name: 'ingest decode+validate with the bounds and result fingerprints',
      value: best.fingerprinted,
      unit: 'results/s',
      baseline: best.baseline,
      baselineName,
      goal: '≥ 0.95× baseline',
      met: best.fingerprinted >= 0.95 * best.baseline,
    },
  ];
}
