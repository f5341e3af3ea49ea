/**
 * renderDashboards turns every algwatch dashboard into the exact text of its provisioned JSON file
 * (dashboards/json/<uid>.json): two-space indent and a final newline, so the committed files and a
 * fresh build compare byte for byte.
 */
import { fleetOverview } from './fleet-overview.js';
import type { Dashboard } from './grafana.js';
import { siteDetail } from './site-detail.js';
import { alertHistory } from './alert-history.js';

/** DASHBOARDS lists every dashboard algwatch ships. */
export const DASHBOARDS: readonly (() => Dashboard)[] = [fleetOverview, siteDetail, alertHistory];

/** renderDashboards maps each file name (`<uid>.json`) to its content. */
export function renderDashboards(): Map<string, string> {
  const files = new Map<string, string>();
  for (const build of DASHBOARDS) {
    const model = build();
    files.set(`${model.uid}.json`, `${JSON.stringify(model, null, 2)}\n`);
  }
  return files;
}
