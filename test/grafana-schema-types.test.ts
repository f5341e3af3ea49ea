/**
 * The generated Grafana dashboards held to Grafana's own published types (`@grafana/schema`, pinned):
 * every key the dashboards use, at every depth, must be one Grafana's dashboard and panel models
 * declare, and every value must fit Grafana's type for it. This is checked by the compiler
 * (`tsc -p tsconfig.test.json`, part of `npm test`): a key or value Grafana does not know fails the
 * build. Where @grafana/schema has nothing (the InfluxQL query of a target; a panel's plugin
 * options, which Grafana types as an open record), the typing stays this repository's own
 * (dashboards/src/grafana.ts). At run time the test checks that the objects typed here are the
 * ones the JSON files are made from, and that the key check does refuse a key Grafana lacks.
 */
import { describe, expect, it } from 'vitest';
import type * as Grafana from '@grafana/schema';
import type { Dashboard, InfluxQLTarget, Panel } from '../dashboards/src/grafana.js';
import { fleetOverview } from '../dashboards/src/fleet-overview.js';
import { siteDetail } from '../dashboards/src/site-detail.js';
import { alertHistory } from '../dashboards/src/alert-history.js';
import { renderDashboards } from '../dashboards/src/render.js';

/** True when M accepts any key (unknown, any, or a string index signature): nothing to check against. */
type IsOpen<M> = unknown extends M ? true : string extends keyof M ? true : false;

/**
 * KnownKeys<T, M> is T itself when every key T declares, at every depth, is declared by Grafana's
 * model M (distributed over M's unions: a panel may be a Panel or a RowPanel); otherwise a key
 * Grafana lacks turns into `{ unknownToGrafana: 'thatKey' }`, which T is not assignable to.
 */
type KnownKeys<T, M> =
  IsOpen<M> extends true
    ? T
    : T extends readonly (infer E)[]
      ? NonNullable<M> extends readonly (infer ME)[]
        ? KnownKeys<E, ME>[]
        : { notAListInGrafana: T }
      : T extends object
        ? NonNullable<M> extends infer N
          ? N extends object
            ? { [K in keyof T]: K extends keyof N ? KnownKeys<T[K], N[K]> : { unknownToGrafana: K } }
            : { notAnObjectInGrafana: T }
          : never
        : T;

/**
 * Loosen<M> is Grafana's model with its string enums (FieldColorModeId, ThresholdsMode...) as the
 * string values they stand for: JSON holds "thresholds", never the enum, and Grafana reads the value.
 */
type Loosen<M> = M extends string
  ? `${M}`
  : M extends readonly (infer E)[]
    ? Loosen<E>[]
    : M extends object
      ? { [K in keyof M]: Loosen<M[K]> }
      : M;

/** A panel without its targets: Grafana types targets as DataQuery, which knows nothing of InfluxQL. */
type PanelWithoutTargets = Omit<Panel, 'targets'>;
type DashboardWithoutTargets = Omit<Dashboard, 'panels'> & { panels: PanelWithoutTargets[] };

// The compile-time checks. Each line fails `tsc` if the dashboards use a key or value Grafana does not know.
const fleetKeys: KnownKeys<DashboardWithoutTargets, Grafana.Dashboard> = fleetOverview();
const siteKeys: KnownKeys<DashboardWithoutTargets, Grafana.Dashboard> = siteDetail();
const alertsKeys: KnownKeys<DashboardWithoutTargets, Grafana.Dashboard> = alertHistory();
const fleetWithoutTargets: DashboardWithoutTargets = fleetOverview();
const siteWithoutTargets: DashboardWithoutTargets = siteDetail();
const fleetValues: Loosen<Grafana.Dashboard> = fleetWithoutTargets;
const siteValues: Loosen<Grafana.Dashboard> = siteWithoutTargets;
const alertsWithoutTargets: DashboardWithoutTargets = alertHistory();
const alertsValues: Loosen<Grafana.Dashboard> = alertsWithoutTargets;
// Targets: Grafana's part (refId, datasource, hide...) by Grafana's DataQuery, the InfluxQL part by ours.
type GrafanaPartOfTarget = Pick<InfluxQLTarget, 'refId' | 'datasource'>;
const targetKeys: Array<KnownKeys<GrafanaPartOfTarget, Grafana.DataQuery>> = [...fleetOverview().panels, ...siteDetail().panels, ...alertHistory().panels].flatMap((panel) => panel.targets ?? []);
const targetValues: Array<Loosen<Grafana.DataQuery>> = [...fleetOverview().panels, ...siteDetail().panels, ...alertHistory().panels].flatMap((panel) => panel.targets ?? []);

describe('dashboards against @grafana/schema', () => {
  it('type-checks the very objects the committed JSON is rendered from', () => {
    const rendered = renderDashboards();
    const byUid = new Map([...rendered.values()].map((text) => [(JSON.parse(text) as { uid: string }).uid, JSON.parse(text) as unknown]));
    expect(byUid.size).toBe(3); // every dashboard the JSON holds is one checked here
    for (const dashboard of [fleetKeys, siteKeys, alertsKeys, fleetValues, siteValues, alertsValues] as Array<{ uid?: string }>) {
      expect(byUid.get(dashboard.uid!), dashboard.uid).toEqual(JSON.parse(JSON.stringify(dashboard)));
    }
    expect(targetKeys.length).toBe(targetValues.length);
    expect(targetKeys.length).toBeGreaterThan(0);
  });

  it('refuses a key Grafana does not declare (the check is not vacuous)', () => {
    // @ts-expect-error `titel` is not a key of Grafana's panel model: this line must not compile.
    const misspelled: KnownKeys<{ titel: string }, Grafana.Panel> = { titel: 'x' };
    // @ts-expect-error a gridPos key Grafana lacks, one level down.
    const nested: KnownKeys<{ gridPos: { x: number; y: number; w: number; h: number; depth: number } }, Grafana.Panel> = { gridPos: { x: 0, y: 0, w: 1, h: 1, depth: 0 } };
    const correct: KnownKeys<{ title: string; gridPos: { x: number; y: number; w: number; h: number } }, Grafana.Panel> = { title: 'x', gridPos: { x: 0, y: 0, w: 1, h: 1 } };
    expect([misspelled, nested, correct]).toHaveLength(3);
  });
});
