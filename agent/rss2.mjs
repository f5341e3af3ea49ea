const w = process.argv[2];
const { readFileSync } = await import('node:fs');
for (const m of w.split(',')) {
  if (m === 'none') continue;
  if (m === 'tlsctx') { (await import('node:tls')).createSecureContext(); continue; }
  if (m === 'tlsctxca') { (await import('node:tls')).createSecureContext({ca: 'x'.length ? undefined : undefined}); continue; }
  if (m === 'fetch') { globalThis.fetch; continue; }
  if (m === 'dtf') { new Intl.DateTimeFormat('en-US',{hour:'2-digit'}).format(new Date()); continue; }
  await import(m);
}
setTimeout(() => {
  let node = 0, anon = 0, heap = 0, cur = '';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-/.test(line)) cur = line.split(/\s+/)[5] ?? '';
    else if (line.startsWith('Rss:')) { const kb = +line.split(/\s+/)[1]; if (cur.endsWith('/node')) node += kb; else if (cur === '') anon += kb; else if (cur === '[heap]') heap += kb; }
  }
  const s = readFileSync('/proc/self/status','utf8'); const rss = +s.match(/VmRSS:\s+(\d+)/)[1];
  console.log(w.padEnd(40), 'rss', (rss/1024).toFixed(1), 'nodebin', (node/1024).toFixed(1), 'anon', (anon/1024).toFixed(1), 'heap', (heap/1024).toFixed(1));
}, 1500);
