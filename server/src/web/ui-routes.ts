/**
 * The dashboard's pages and assets, built by Vite into server/dist-ui (`npm run build`). Every page
 * path answers the same index.html (the front end routes by path); assets are served from
 * dist-ui/assets with long caching (their names carry a content hash). All of it needs a login.
 */
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendHtml, HttpError, type WebRoute } from './http-kit.js';

/** Where Vite writes the built front end (server/dist-ui, beside server/dist). */
export const UI_DIST_DIR = fileURLToPath(new URL('../../dist-ui/', import.meta.url));

/** Pages: `/sites/:id`, and `/sites/:tenant/:site` as alert messages link to them. */
const PAGE_PATHS = /^\/(?:|fleet|alerts|settings|sites\/[^/]+(?:\/[^/]+)?)$/;
const ASSET_PATH = /^\/assets\/(?<file>[A-Za-z0-9._-]+)$/;
const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

export function uiRoutes(distDir = UI_DIST_DIR): WebRoute[] {
  return [
    {
      method: 'GET',
      path: PAGE_PATHS,
      access: 'page',
      async handle(ctx) {
        const page = await readFile(join(distDir, 'index.html'), 'utf8').catch(() => null);
        if (page === null) {
          return sendHtml(ctx.res, 503, '<!doctype html><title>algwatch</title><p>The dashboard is not built: run <code>npm run build</code>.</p>');
        }
        sendHtml(ctx.res, 200, page);
      },
    },
    {
      method: 'GET',
      path: ASSET_PATH,
      access: 'page',
      async handle(ctx) {
        const file = ctx.params.file ?? '';
        const type = CONTENT_TYPES[extname(file)];
        const body = type ? await readFile(join(distDir, 'assets', file)).catch(() => null) : null;
        if (!type || body === null) throw new HttpError(404, 'not found');
        ctx.res.writeHead(200, { 'content-type': type, 'cache-control': 'private, max-age=31536000, immutable', 'x-content-type-options': 'nosniff' });
        ctx.res.end(body);
      },
    },
  ];
}
