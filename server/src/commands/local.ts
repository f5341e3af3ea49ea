/**
 * `algwatch-server local` (what `npm start` runs): the whole product on one machine with embedded
 * storage. Starts the server on loopback, enrolls a site for this machine (once; its token is kept
 * in the data dir), starts a local agent against it, and prints where to look.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import type { RelationalStore } from '../relational/relational-store.js';
import { startServer } from '../server.js';
import { UserStore } from '../auth/user-store.js';

const LOCAL_SITE = 'this-machine';
const LOCAL_ADMIN = 'admin';
const AGENT_BIN = fileURLToPath(new URL('../../../agent/bin/algwatch-agent.js', import.meta.url));

/** runLocal starts everything and resolves once it is up; Ctrl-C stops the agent, then the server. */
export async function runLocal(config: ServerConfig, log: Logger): Promise<void> {
  const server = await startServer(config, log);
  const token = await localSiteToken(server.relational, config.dataDir);
  const admin = await localAdminLogin(server.relational, config.dataDir);
  const serverUrl = `http://${config.httpBind === '0.0.0.0' ? '127.0.0.1' : config.httpBind}:${server.httpPort}`;
  const agent = startLocalAgent(serverUrl, token, join(config.dataDir, 'local-agent'));
  process.stderr.write(
    `\nalgwatch is running on this machine\n` +
      `  dashboard:                ${serverUrl}/  (log in as ${admin.name}, password ${admin.password})\n` +
      `  agents connect to:        ${serverUrl}  (health: ${serverUrl}/healthz)\n` +
      `  site:    ${LOCAL_SITE}, with a local agent probing the reflector on ${config.bind}\n` +
      `  data:    ${config.dataDir}\n` +
      `  enroll a real site:  npx algwatch-server site add SITE-NAME --tenant CLIENT\n` +
      `  add a login:         npx algwatch-server user add NAME --role technician --tenants CLIENT\n` +
      `  check a site once:   npx algwatch-agent check --server ${config.bind}${checkPortFlags({ sip: server.sip.ports.udp, tls: server.sip.ports.tls, stun: server.stun.sockets[0]?.port ?? config.stunPort })}\n` +
      `Ctrl-C stops it.\n\n`,
  );
  const stop = () => {
    agent.kill('SIGTERM');
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  agent.once('exit', (code) => {
    if (code !== 0 && code !== null) log.error({ code }, 'local agent exited; the server keeps running');
  });
}

/** checkPortFlags are the `check` flags for reflector ports other than the standard 5060/5061/3478. */
function checkPortFlags(ports: { sip: number; tls: number; stun: number }): string {
  const flags: string[] = [];
  if (ports.sip !== 5060) flags.push(`--sip-port ${ports.sip}`);
  if (ports.tls !== 5061) flags.push(`--tls-port ${ports.tls}`);
  if (ports.stun !== 3478) flags.push(`--stun-port ${ports.stun}`);
  return flags.length > 0 ? ` ${flags.join(' ')}` : '';
}

/** localSiteToken returns the local site's token, enrolling the site on first start. */
async function localSiteToken(relational: RelationalStore, dataDir: string): Promise<string> {
  const tokenFile = join(dataDir, 'local-agent.token');
  const saved = await readFile(tokenFile, 'utf8').catch(() => '');
  if (saved.trim() && (await relational.authenticateToken(saved.trim()))) return saved.trim();
  const exists = (await relational.listSites()).some((site) => site.name === LOCAL_SITE);
  const { token } = exists ? await relational.issueSiteToken(LOCAL_SITE) : await relational.createSite(LOCAL_SITE);
  await mkdir(dataDir, { recursive: true });
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  return token;
}

/**
 * localAdminLogin returns the login of this machine's admin, creating user `admin` on first start.
 * Its password is kept in the data dir (mode 0600, like the agent token) so every `npm start`
 * can print it; a real server creates users with `algwatch-server user add` instead.
 */
export async function localAdminLogin(relational: RelationalStore, dataDir: string): Promise<{ name: string; password: string }> {
  const users = new UserStore(relational.db);
  const passwordFile = join(dataDir, 'local-admin.password');
  const saved = (await readFile(passwordFile, 'utf8').catch(() => '')).trim();
  if (saved && (await users.checkPassword(LOCAL_ADMIN, saved))) return { name: LOCAL_ADMIN, password: saved };
  // No saved password that works: (re)create the admin, whose old password nobody can read back.
  if ((await users.listUsers()).some((user) => user.name === LOCAL_ADMIN)) await users.removeUser(LOCAL_ADMIN);
  const { password } = await users.addUser({ name: LOCAL_ADMIN, role: 'admin' });
  await mkdir(dataDir, { recursive: true });
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  return { name: LOCAL_ADMIN, password };
}

/**
 * launcherNodeFlags reads the Node flags from the agent launcher's shebang
 * (`#!/usr/bin/env -S node --jitless ...`), so the local agent runs exactly as an installed one.
 */
export function launcherNodeFlags(launcherSource: string): string[] {
  const shebang = launcherSource.split('\n', 1)[0] ?? '';
  const words = shebang.replace(/^#!/, '').trim().split(/\s+/);
  const node = words.findIndex((word) => word === 'node' || word.endsWith('/node'));
  return node === -1 ? [] : words.slice(node + 1).filter((word) => word.startsWith('--'));
}

function startLocalAgent(serverUrl: string, token: string, dataDir: string): ChildProcess {
  // This Node (not whichever `node` PATH finds), with the launcher's own flags.
  const flags = launcherNodeFlags(readFileSync(AGENT_BIN, 'utf8'));
  return spawn(process.execPath, [...flags, AGENT_BIN, 'run', '--server', serverUrl, '--data-dir', dataDir, '--agent-id', hostname()], {
    // The token goes through the environment, not argv, so `ps` does not show it.
    env: { ...process.env, ALGWATCH_TOKEN: token },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}
