// Bundles the compiled agent (dist/cli.js and everything it imports, node_modules included) into one
// ES module, dist/bundle/algwatch-agent.js, which the launcher runs. Why: the agent's goal is < 60 MB
// RSS on a site's small box, and Node keeps every loaded module's source, records and resolution
// state; one file without whitespace costs about 4 MB less than ~150 separate modules
// (bench/agent-footprint.ts). Identifiers are kept, so stack traces stay readable.
// Run by `npm run build` after `tsc -b`.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const agentDir = fileURLToPath(new URL('..', import.meta.url));

// zod bundles every locale it ships (about 260 KB) for `z.locales`; the agent only ever reports in
// English, which zod registers by default, so the locale index is cut down to English.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(esbuild) {
    esbuild.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes('/node_modules/zod/') ? { path: join(dirname(args.importer), '../locales/en.js'), namespace: 'zod-english-only' } : undefined,
    );
    esbuild.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

await build({
  entryPoints: [join(agentDir, 'dist/cli.js')],
  outfile: join(agentDir, 'dist/bundle/algwatch-agent.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [zodEnglishOnly],
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
