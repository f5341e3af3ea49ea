import { readFileSync } from 'node:fs';
for (const m of process.argv[2].split(',')) if (m !== 'none') await import(m);
setTimeout(() => {
  globalThis.gc?.();
  const s = readFileSync('/proc/self/status','utf8'); const rss = +s.match(/VmRSS:\s+(\d+)/)[1];
  const h = process.memoryUsage();
  console.log(process.argv[2].padEnd(60), 'rss', (rss/1024).toFixed(1), 'heapUsed', (h.heapUsed/1e6).toFixed(1), 'heapTotal', (h.heapTotal/1e6).toFixed(1)); process.exit(0);
}, 1500);
