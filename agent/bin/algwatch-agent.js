#!/usr/bin/env -S node --jitless --no-expose-wasm --optimize-for-size
// Thin launcher: the agent is written in TypeScript, compiled to dist/ and bundled into one file by
// `npm install` (prepare: `npm run build`, see scripts/bundle.mjs). The Node flags keep the agent
// small on the boxes it runs on (bench/agent-footprint.ts, bench/agent-soak.ts):
// --jitless: the agent idles between probes, so V8's optimizing compiler buys nothing and its code
//   memory costs about 12 MB of RSS (the agent uses no WebAssembly, hence --no-expose-wasm).
// --optimize-for-size: without it V8 lets the old generation grow to about four times the live heap
//   before a full GC; an agent that allocates slowly for weeks then creeps from 50 to 60+ MB of RSS.
//   With it the heap is collected at about twice the live size and RSS stays flat.
import { main } from '../dist/bundle/algwatch-agent.js';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
