/**
 * Checks a StoredPoint against the MEASUREMENTS schema before any store takes it, so one bad point
 * can never fail a whole InfluxDB batch or change a column's type.
 */
import { fieldValueMatches, INGEST_TAGS, MEASUREMENTS, type FieldType, type MeasurementName } from '@algwatch/protocol/measurements';
import type { StoredPoint } from './time-series.js';

/** seriesTags lists every tag a stored point of the measurement may carry: ingest's, then the probe's. */
export function seriesTags(measurement: MeasurementName): string[] {
  return [...INGEST_TAGS, ...MEASUREMENTS[measurement].tags];
}

/** fieldTypes is the measurement's field → type map (fixed forever: InfluxDB keeps a field's first type). */
export function fieldTypes(measurement: MeasurementName): Readonly<Record<string, FieldType>> {
  return MEASUREMENTS[measurement].fields;
}

/**
 * storedPointProblem says in one line what is wrong with a point (unknown measurement, tag or field,
 * a value of the wrong type, no field at all, a bad timestamp), or undefined when it can be stored.
 */
export function storedPointProblem(point: StoredPoint): string | undefined {
  if (!Object.hasOwn(MEASUREMENTS, point.measurement)) return `unknown measurement ${String(point.measurement)}`;
  if (!Number.isSafeInteger(Math.trunc(point.timestampMs)) || point.timestampMs < 0) {
    return `${point.measurement}: timestamp ${point.timestampMs} is not a time in milliseconds`;
  }
  const tags = seriesTags(point.measurement);
  for (const [tag, value] of Object.entries(point.tags)) {
    if (!tags.includes(tag)) return `unknown tag ${point.measurement}.${tag}`;
    if (typeof value !== 'string') return `tag ${point.measurement}.${tag} must be a string`;
  }
  const types = fieldTypes(point.measurement);
  const names = Object.keys(point.fields);
  if (names.length === 0) return `${point.measurement}: a point needs at least one field`;
  for (const name of names) {
    const type = types[name];
    if (!type) return `unknown field ${point.measurement}.${name}`;
    if (!fieldValueMatches(type, point.fields[name])) return `field ${point.measurement}.${name} must be ${type}`;
  }
  return undefined;
}
