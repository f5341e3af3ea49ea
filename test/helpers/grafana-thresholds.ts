/**
 * Grafana's reading of a panel's colours, for tests that check a dashboard grades a value the way
 * the findings catalogue does: absolute thresholds give a value the colour of the last step whose
 * value is at or below it (the base step, value null, below all), and a value mapping gives the
 * colour of the entry for that exact value.
 */
import type { FieldDefaults, ValueMapping } from '../../dashboards/src/grafana.js';
import { GREEN } from '../../dashboards/src/panels.js';
import { SEVERITY_COLORS } from '../../dashboards/src/findings-colors.js';
import type { Severity } from '@algwatch/protocol/findings/index';

/** thresholdColor is the colour Grafana paints `value` with under absolute thresholds. */
export function thresholdColor(thresholds: NonNullable<FieldDefaults['thresholds']>, value: number): string {
  let color = thresholds.steps[0]!.color;
  for (const step of thresholds.steps) if (step.value === null || value >= step.value) color = step.color;
  return color;
}

/** mappingColor is the colour a value mapping gives `value`; undefined when it gives none. */
export function mappingColor(mapping: ValueMapping, value: string | number | boolean): string | undefined {
  if (mapping.type !== 'value') return undefined;
  return mapping.options[String(value)]?.color;
}

/** severityOfColor reads a colour back as the catalogue severity it stands for; null for green (nothing wrong). */
export function severityOfColor(color: string | undefined): Severity | null {
  if (color === GREEN) return null;
  const found = (Object.entries(SEVERITY_COLORS) as [Severity, string][]).find(([, candidate]) => candidate === color);
  if (!found) throw new Error(`colour ${String(color)} stands for no severity`);
  return found[0];
}
