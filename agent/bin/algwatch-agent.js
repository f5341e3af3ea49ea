#!/usr/bin/env node
// Thin launcher: the agent is written in TypeScript and compiled to dist/ by `npm install` (prepare).
import { main } from '../dist/cli.js';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
