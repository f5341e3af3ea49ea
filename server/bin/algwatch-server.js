#!/usr/bin/env node
// Thin launcher: the server is written in TypeScript and compiled to dist/ by `npm install` (prepare).
import { main } from '../dist/cli.js';
main(process.argv.slice(2)).then((code) => { if (code !== undefined) process.exitCode = code; });
