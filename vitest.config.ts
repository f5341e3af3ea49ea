import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const protocolSrc = fileURLToPath(new URL('./protocol/src/', import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources of the shared protocol, not its build output.
    alias: [
      { find: /^@algwatch\/protocol$/, replacement: `${protocolSrc}index.ts` },
      { find: /^@algwatch\/protocol\/(.*)$/, replacement: `${protocolSrc}$1.ts` },
    ],
  },
  test: {
    reporters: ['default', './test/plain-summary-reporter.ts'],
    include: ['protocol/src/**/*.test.ts', 'agent/src/**/*.test.ts', 'server/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Network-namespace tests share the kernel's netfilter state per namespace, never across files,
    // but they are CPU- and timing-sensitive: keep file parallelism modest on 2-core boxes.
    maxWorkers: 2,
  },
});
