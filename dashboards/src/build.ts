/**
 * build writes dashboards/json/*.json from the TypeScript sources and removes JSON files no
 * dashboard produces any more. Run after changing a dashboard or the measurement schema:
 * `npx tsx dashboards/src/build.ts` (test/dashboards.test.ts fails until the JSON is regenerated).
 */
import { readdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderDashboards } from './render.js';

const jsonDir = fileURLToPath(new URL('../json/', import.meta.url));

const files = renderDashboards();
for (const [name, text] of files) await writeFile(`${jsonDir}${name}`, text);
for (const name of await readdir(jsonDir)) {
  if (name.endsWith('.json') && !files.has(name)) await rm(`${jsonDir}${name}`);
}
process.stdout.write(`wrote ${[...files.keys()].map((name) => `dashboards/json/${name}`).join(', ')}\n`);
