#!/usr/bin/env -S node --jitless --no-expose-wasm
// Thin launcher: the agent is written in TypeScript and compiled to dist/ by `npm install` (prepare).
// --jitless: the agent idles between probes, so V8's optimizing compiler buys nothing and its code
// memory costs about 12 MB of RSS on the small boxes agents run on (the agent uses no WebAssembly).
import { main } from '../dist/cli.js';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
