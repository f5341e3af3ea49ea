/**
 * Panel and variable builders shared by the algwatch dashboards: each returns a complete Grafana
 * object so a dashboard file reads as a list of questions a technician asks, not as JSON plumbing.
 */
import {
  DATASOURCE,
  type Dashboard,
  type FieldDefaults,
  type FieldOverride,
  type GridPos,
  type InfluxQLTarget,
  type Panel,
  type QueryVariable,
  type Transformation,
  type ValueMapping,
} from './grafana.js';
import { quote } from './influxql.js';

/** QuerySpec is one InfluxQL query of a panel; refIds are assigned A, B, … in order. */
export interface QuerySpec {
  query: string;
  alias?: string;
}

/** PanelSpec is what every builder takes: a title, what the panel answers, where it sits and its queries. */
export interface PanelSpec {
  title: string;
  description: string;
  gridPos: GridPos;
  queries: QuerySpec[];
  defaults?: FieldDefaults;
  overrides?: FieldOverride[];
  transformations?: Transformation[];
}

export const RED = 'red';
export const ORANGE = 'orange';
export const GREEN = 'green';
export const BLUE = 'blue';

/** RUN_MAPPING shows probe_run's `success` as words. */
export const RUN_MAPPING: ValueMapping = {
  type: 'value',
  options: {
    true: { text: 'ran', color: GREEN, index: 0 },
    false: { text: 'failed', color: RED, index: 1 },
  },
};

/** dashboard assembles a dashboard and numbers its panels in order. */
export function dashboard(spec: Omit<Dashboard, 'timezone' | 'editable' | 'graphTooltip' | 'schemaVersion' | 'version' | 'annotations' | 'links'>): Dashboard {
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: spec.tags,
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: spec.refresh,
    time: spec.time,
    templating: spec.templating,
    annotations: { list: [] },
    links: [{ title: 'algwatch', type: 'dashboards', tags: ['algwatch'], asDropdown: true, includeVars: true, keepTime: true, icon: 'external link', targetBlank: false, tooltip: '' }],
    panels: spec.panels.map((panel, index) => ({ ...panel, id: index + 1 })),
  };
}

/**
 * tagVariable is a template variable listing a tag's values; `within` narrows it by other
 * variables (e.g. the sites of the chosen tenant).
 */
export function tagVariable(name: 'tenant' | 'site', label: string, options: { multi: boolean; within?: 'tenant' }): QueryVariable {
  const where = options.within ? ` WHERE ${quote(options.within)} =~ /^$${options.within}$/` : '';
  const query = `SHOW TAG VALUES WITH KEY = ${quote(name)}${where}`;
  return {
    type: 'query',
    name,
    label,
    datasource: DATASOURCE,
    query,
    refresh: 2,
    multi: options.multi,
    includeAll: options.multi,
    sort: 1,
    regex: '',
    hide: 0,
    options: [],
  };
}

export function statPanel(spec: PanelSpec): Panel {
  return {
    ...base('stat', spec, 'time_series'),
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'none', textMode: 'value', justifyMode: 'center' },
  };
}

export function tablePanel(spec: PanelSpec): Panel {
  return {
    ...base('table', spec, 'table'),
    options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' } },
  };
}

/** timeSeriesPanel draws lines; `thresholdsStyle` draws the thresholds of `defaults` as lines and bands. */
export function timeSeriesPanel(spec: PanelSpec, style: { points?: boolean; thresholdsStyle?: 'line+area' | 'dashed' } = {}): Panel {
  const custom = {
    drawStyle: style.points ? 'points' : 'line',
    lineWidth: 1,
    pointSize: 5,
    fillOpacity: 0,
    spanNulls: true,
    showPoints: 'auto',
    thresholdsStyle: { mode: style.thresholdsStyle ?? 'off' },
  };
  const panel = base('timeseries', spec, 'time_series');
  return {
    ...panel,
    fieldConfig: { defaults: { ...panel.fieldConfig!.defaults, custom }, overrides: panel.fieldConfig!.overrides },
    options: { legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
  };
}

/** stateTimelinePanel shows a value per bucket as coloured bands: a change is where the colour changes. */
export function stateTimelinePanel(spec: PanelSpec): Panel {
  return {
    ...base('state-timeline', spec, 'time_series'),
    options: { mergeValues: true, showValue: 'auto', alignValue: 'left', rowHeight: 0.9, legend: { showLegend: false, displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'single', sort: 'none' } },
  };
}

function base(type: Panel['type'], spec: PanelSpec, resultFormat: InfluxQLTarget['resultFormat']): Panel & { fieldConfig: NonNullable<Panel['fieldConfig']> } {
  const panel: Panel & { fieldConfig: NonNullable<Panel['fieldConfig']> } = {
    id: 0,
    type,
    title: spec.title,
    description: spec.description,
    gridPos: spec.gridPos,
    datasource: DATASOURCE,
    targets: spec.queries.map((query, index) => {
      const target: InfluxQLTarget = { refId: String.fromCharCode(65 + index), datasource: DATASOURCE, query: query.query, rawQuery: true, resultFormat };
      if (query.alias !== undefined) target.alias = query.alias;
      return target;
    }),
    fieldConfig: { defaults: spec.defaults ?? {}, overrides: spec.overrides ?? [] },
  };
  if (spec.transformations) panel.transformations = spec.transformations;
  return panel;
}

/** thresholds builds absolute steps from a base colour and `[value, colour]` pairs. */
export function thresholds(baseColor: string, ...steps: [number, string][]): NonNullable<FieldDefaults['thresholds']> {
  return { mode: 'absolute', steps: [{ color: baseColor, value: null }, ...steps.map(([value, color]) => ({ color, value }))] };
}

/** rename shows a column under a readable header (table panels). */
export function rename(column: string, displayName: string, extra: FieldOverride['properties'] = []): FieldOverride {
  return { matcher: { id: 'byName', options: column }, properties: [{ id: 'displayName', value: displayName }, ...extra] };
}
