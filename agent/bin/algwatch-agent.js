#!/usr/bin/env -S node --jitless --no-expose-wasm --optimize-for-size
// Thin launcher: the agent is written in TypeScript, compiled to dist/ and bundled into one file by
// `npm install` (prepare: `npm run build`, see scripts/bundle.mjs). The Node flags keep the agent
// small on the boxes it runs on (bench/agent-footprint.ts, bench/agent-soak.ts):
// --jitless: the agent idles between probes, so V8's optimizing compiler buys nothing and its code
//   memory costs about 12 MB of RSS (the agent uses no WebAssembly, hence --no-expose-wasm).
// --optimize-for-size: without it V8 rarely runs a full GC for a process that allocates as slowly
//   as the agent, and RSS creeps (one full GC in 8 minutes of bench/agent-soak, RSS 50 -> 62 MB);
//   with it V8 collects sooner (six full GCs) and RSS stays at 52-53 MB.
import { main } from '../dist/bundle/algwatch-agent.js';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
