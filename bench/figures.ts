/** BenchFigure is one printed result: a figure, its goal, and the baseline measured in the same run. */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  goal?: string;
  met?: boolean;
  baseline?: number;
  baselineName?: string;
}

export function formatFigure(figure: BenchFigure): string {
  const value = formatNumber(figure.value);
  let line = `${figure.name}: ${value} ${figure.unit}`;
  if (figure.baseline !== undefined) {
    line += ` | baseline (${figure.baselineName ?? 'baseline'}): ${formatNumber(figure.baseline)} ${figure.unit}, ratio ${(figure.value / figure.baseline).toFixed(2)}`;
  }
  if (figure.goal) line += ` | goal ${figure.goal}: ${figure.met ? 'met' : 'NOT met'}`;
  return line;
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2);
}
