import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const w = process.argv[2];
if (w === 'v4') { const cron = (await import('node-cron')).default; cron.schedule('*/5 * * * * *', () => {}); }
if (w === 'v3') { const cron = createRequire(import.meta.url)('/tmp/nc-3/package/src/node-cron.js'); cron.schedule('*/5 * * * * *', () => {}); }
setTimeout(() => {
  const s = readFileSync('/proc/self/status','utf8'); const rss = +s.match(/VmRSS:\s+(\d+)/)[1];
  console.log(w, 'rss', (rss/1024).toFixed(1)); process.exit(0);
}, 7000);
