/**
 * The subset of Grafana's dashboard JSON model (schemaVersion 39, Grafana 10–12) the algwatch
 * dashboards use, typed by hand: plain objects serialise to exactly the JSON Grafana provisions,
 * with no SDK between the source and the file. `@grafana/grafana-foundation-sdk` was left out on
 * purpose: it has no InfluxQL target type, so the part that matters here would be ours anyway.
 * test/grafana-schema-types.test.ts holds these types to Grafana's published ones (`@grafana/schema`):
 * a key or value Grafana's dashboard and panel models do not know fails the type check.
 */

/** DATASOURCE is the provisioned InfluxDB datasource (dashboards/provisioning/datasources/algwatch.yml). */
export const DATASOURCE = { type: 'influxdb', uid: 'algwatch-influxdb' } as const;

export type DatasourceRef = typeof DATASOURCE;

/** The dashboards' uids: their URLs are /d/<uid>, and links between them use these. */
export const FLEET_OVERVIEW_UID = 'algwatch-fleet';
export const SITE_DETAIL_UID = 'algwatch-site';
export const ALERT_HISTORY_UID = 'algwatch-alerts';

/** InfluxQLTarget is one raw InfluxQL query of a panel; Grafana fills in `$timeFilter`, `$__interval` and variables. */
export interface InfluxQLTarget {
  refId: string;
  datasource: DatasourceRef;
  query: string;
  rawQuery: true;
  resultFormat: 'time_series' | 'table';
  /** Series name, e.g. `$tag_site` (time series only). */
  alias?: string;
}

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface ThresholdStep {
  color: string;
  value: number | null;
}

export type ValueMapping =
  | { type: 'value'; options: Record<string, { text: string; color?: string; index: number }> }
  | { type: 'range'; options: { from: number; to: number; result: { text: string; color?: string; index: number } } };

export interface FieldDefaults {
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  displayName?: string;
  /** What to show when the query returns no rows. */
  noValue?: string;
  color?: { mode: 'thresholds' | 'palette-classic' | 'fixed'; fixedColor?: string };
  thresholds?: { mode: 'absolute'; steps: ThresholdStep[] };
  mappings?: ValueMapping[];
  custom?: Record<string, unknown>;
  links?: { title: string; url: string }[];
}

export interface FieldOverride {
  matcher: { id: 'byName' | 'byRegexp'; options: string };
  properties: { id: string; value: unknown }[];
}

export type PanelType = 'stat' | 'table' | 'timeseries' | 'state-timeline' | 'text';

export interface Transformation {
  id: string;
  options: Record<string, unknown>;
}

export interface Panel {
  id: number;
  type: PanelType;
  title: string;
  description?: string;
  gridPos: GridPos;
  datasource?: DatasourceRef;
  targets?: InfluxQLTarget[];
  fieldConfig?: { defaults: FieldDefaults; overrides: FieldOverride[] };
  options?: Record<string, unknown>;
  transformations?: Transformation[];
  /** Which Grafana version wrote the panel model; Grafana migrates older ones on load. */
  pluginVersion?: string;
}

/** QueryVariable is a template variable filled by an InfluxQL `SHOW TAG VALUES`. */
export interface QueryVariable {
  type: 'query';
  name: string;
  label: string;
  datasource: DatasourceRef;
  query: string;
  /** 1: on dashboard load, 2: on time range change. */
  refresh: 1 | 2;
  multi: boolean;
  includeAll: boolean;
  sort: 1;
  regex: '';
  hide: 0;
  options: [];
}

export interface DashboardLink {
  title: string;
  type: 'dashboards';
  tags: string[];
  asDropdown: boolean;
  includeVars: boolean;
  keepTime: boolean;
  icon: 'external link';
  targetBlank: boolean;
  tooltip: string;
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: 'browser';
  editable: true;
  graphTooltip: 1;
  schemaVersion: 39;
  version: 1;
  refresh: string;
  time: { from: string; to: string };
  templating: { list: QueryVariable[] };
  annotations: { list: [] };
  links: DashboardLink[];
  panels: Panel[];
}
