// Bundles the compiled agent (dist/cli.js and everything it imports, node_modules included) into one
// ES module, dist/bundle/algwatch-agent.js, which the launcher runs. Why: the agent's goal is < 60 MB
// RSS on a site's small box, and Node keeps every loaded module's source, records and resolution
// state; one file without whitespace costs about 4 MB less than ~150 separate modules
// (bench/agent-footprint.ts). Identifiers are kept, so stack traces stay readable.
// Run by `npm run build` after `tsc -b`.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const agentDir = fileURLToPath(new URL('..', import.meta.url));
const outfile = join(agentDir, 'dist/bundle/algwatch-agent.js');

const { metafile } = await build({
  entryPoints: [join(agentDir, 'dist/cli.js')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: true,
  logLevel: 'warning',
  // CommonJS dependencies (node-cron, socket.io-client's) call require and read __dirname; an ES
  // module has neither, so the bundle defines them for itself.
  banner: {
    js: [
      "import { createRequire as algwatchCreateRequire } from 'node:module';",
      "import { fileURLToPath as algwatchFileURLToPath } from 'node:url';",
      'const require = algwatchCreateRequire(import.meta.url);',
      'const __filename = algwatchFileURLToPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join(' '),
  },
});

// The agent's schemas are written with zod/mini so that the bundle holds only the zod it calls:
// classic zod cost the agent about 2.5 MB of RSS (bench/agent-footprint), and other locales are dead
// weight (English is the only one registered, in protocol/src/zod.ts). A stray `import { z } from
// 'zod'`, or a zod namespace used as a value (which pulls in every export, every locale included),
// fails the build here instead of the RSS goal later. metafile.inputs lists every module esbuild
// read; the output's inputs say which ones it kept (zod/mini re-exports the locale index as a
// namespace nothing reads, so that index stays as an empty stub).
const bundled = Object.entries(Object.values(metafile.outputs)[0].inputs).filter(([, input]) => input.bytesInOutput > 0);
const unwanted = bundled
  .map(([path]) => path)
  .filter((path) => /(?:^|\/)node_modules\/zod\/(?:v4\/classic\/|v3\/|v4\/locales\/(?!en\.js$|index\.js$))/.test(path));
if (unwanted.length > 0) {
  // No bundle rather than a heavy one that the launcher would run.
  rmSync(outfile, { force: true });
  throw new Error(`the agent bundle must hold only zod/mini and its English locale; it also pulls in:\n${unwanted.join('\n')}`);
}
