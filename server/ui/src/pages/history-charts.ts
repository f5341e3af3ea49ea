/**
 * The site's history charts (uPlot): one chart per unit (lifetime in s, RTT in ms, loss in %, SIP
 * ALG detected 1/0), each series on its own time axis merged into one, and the public address
 * changes as a list.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { SiteHistory } from '@algwatch/protocol/dashboard';
import { clock, esc } from '../format.js';

const TITLES: Record<string, string> = { s: 'UDP binding lifetime (s)', ms: 'Keep-alive RTT (ms)', '%': 'Keep-alive loss (%)', detected: 'SIP ALG detected (1 = yes)' };
const COLOURS = ['#1d4ed8', '#b91c1c', '#15803d', '#a16207', '#7c3aed', '#0e7490'];

/** drawHistory replaces `container`'s content with the charts; returns a function that frees them. */
export function drawHistory(container: HTMLElement, history: SiteHistory): () => void {
  const plots: uPlot[] = [];
  container.innerHTML = '';
  for (const [unit, title] of Object.entries(TITLES)) {
    const series = history.series.filter((s) => s.unit === unit);
    const box = document.createElement('div');
    box.className = 'chart';
    box.dataset.unit = unit;
    container.append(box);
    if (series.length === 0) {
      box.innerHTML = `<h3>${esc(title)}</h3><p class="empty">No data in this range.</p>`;
      continue;
    }
    const times = [...new Set(series.flatMap((s) => s.points.map(([t]) => t)))].sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    const columns = series.map((s) => {
      const values: Array<number | null> = new Array<number | null>(times.length).fill(null);
      for (const [t, v] of s.points) values[index.get(t) as number] = v;
      return values;
    });
    const data: uPlot.AlignedData = [times.map((t) => t / 1000), ...columns];
    const options: uPlot.Options = {
      title,
      width: Math.min(container.clientWidth || 900, 1100),
      height: 220,
      scales: { x: { time: true, min: history.from / 1000, max: history.to / 1000 } },
      series: [{}, ...series.map((s, i) => ({ label: s.name, stroke: COLOURS[i % COLOURS.length] as string, spanGaps: true, points: { show: true, size: 5 }, ...(unit === 'detected' ? { paths: uPlot.paths.stepped?.({ align: 1 }) } : {}) }))],
    };
    plots.push(new uPlot(options, data, box));
  }
  const changes = document.createElement('div');
  changes.className = 'address-changes';
  changes.innerHTML =
    `<h3>Public address</h3>` +
    (history.addressChanges.length === 0 ? '<p class="empty">No STUN result in this range.</p>' : `<ul>${history.addressChanges.map((c) => `<li>${clock(c.at)}: ${esc(c.address)}</li>`).join('')}</ul>`);
  container.append(changes);
  return () => plots.forEach((plot) => plot.destroy());
}
