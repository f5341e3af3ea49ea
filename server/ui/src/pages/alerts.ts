/**
 * The alerts page. Alerting (issue 11) is being built beside the dashboard; until it lands this page
 * says so rather than showing an empty list that looks like "all is well".
 */
export function showAlerts(page: HTMLElement): void {
  page.innerHTML = `<h1>Alerts</h1>
    <p class="empty">Alerting is not part of this server version yet: firing and recent alerts, acknowledgements, silences and
    maintenance windows will show here. Until then the fleet page lists every site's problems, worst first.</p>`;
}
