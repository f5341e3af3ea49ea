/**
 * fleetProblemsOf logs in to the dashboard the way a browser would (the login form's hidden CSRF
 * token, then the session cookie), from inside a testbed namespace with curl, because the server
 * there is not reachable from the test process. It then polls `/api/fleet` until the site's
 * problems include one containing `awaited`, or the time is up, and returns them either way.
 */
import type { NamespaceRole, Topology } from '../testbed/topology.js';

export interface FleetProblemsQuery {
  namespace: NamespaceRole;
  /** The dashboard's base URL, e.g. http://203.0.113.10:8080. */
  base: string;
  /** A file for curl's cookies. */
  cookieJar: string;
  username: string;
  password: string;
  site: string;
  awaited: string;
  timeoutMs: number;
}

export async function fleetProblemsOf(topology: Topology, query: FleetProblemsQuery): Promise<string[]> {
  const { base } = query;
  const curl = async (args: string[]) => (await topology.exec(query.namespace, 'curl', ['-s', '-b', query.cookieJar, '-c', query.cookieJar, ...args])).stdout;
  const form = await curl([`${base}/login`]);
  const csrf = /name="csrf" value="([^"]+)"/.exec(form)?.[1] ?? '';
  const fields = { username: query.username, password: query.password, csrf, next: '/' };
  await curl(['-H', `origin: ${base}`, ...Object.entries(fields).flatMap(([name, value]) => ['--data-urlencode', `${name}=${value}`]), `${base}/login`]);
  const deadline = Date.now() + query.timeoutMs;
  let problems: string[] = [];
  while (Date.now() < deadline) {
    const fleet = JSON.parse((await curl([`${base}/api/fleet`])) || '{}') as { rows?: Array<{ site: string; problems: string[] }> };
    problems = fleet.rows?.find((row) => row.site === query.site)?.problems ?? [];
    if (problems.some((problem) => problem.includes(query.awaited))) break;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return problems;
}
