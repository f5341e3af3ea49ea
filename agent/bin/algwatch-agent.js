#!/usr/bin/env -S node --jitless --no-expose-wasm
// Thin launcher: the agent is written in TypeScript, compiled to dist/ and bundled into one file by
// `npm install` (prepare: `npm run build`, see scripts/bundle.mjs).
// --jitless: the agent idles between probes, so V8's optimizing compiler buys nothing and its code
// memory costs about 12 MB of RSS on the small boxes agents run on (the agent uses no WebAssembly).
import { main } from '../dist/bundle/algwatch-agent.js';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
