/**
 * Vite build of the dashboard's front end: server/ui -> server/dist-ui, served by the server
 * (web/ui-routes.ts). Everything is bundled, nothing comes from a CDN: an MSP's server may have no
 * internet. The protocol's schemas are bundled from their TypeScript sources.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const protocolSrc = fileURLToPath(new URL('../../protocol/src/', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  resolve: {
    alias: [{ find: /^@algwatch\/protocol\/(.*)$/, replacement: `${protocolSrc}$1.ts` }],
  },
  build: {
    outDir: fileURLToPath(new URL('../dist-ui/', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 600,
  },
});
