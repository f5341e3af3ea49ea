/**
 * A real SIP registrar's OPTIONS answer inside a testbed namespace: Kamailio (Debian package
 * `kamailio`) configured to answer OPTIONS 200 statelessly. Like any RFC 3581 server it writes
 * `received=` and `rport=` from the packet's source, which is what the passive ALG detection reads.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManagedProcess } from '../helpers/process.js';
import type { NamespaceRole, Topology } from './topology.js';

export interface RunningKamailio {
  process: ManagedProcess;
  stop(): Promise<void>;
}

const MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';

/** kamailioConfig answers OPTIONS with 200 and anything else with 404, stateless, on one UDP address. */
function kamailioConfig(address: string, port: number): string {
  return [
    '#!KAMAILIO',
    'debug=2',
    'log_stderror=yes',
    'children=1',
    'disable_tcp=yes',
    'auto_aliases=no',
    `listen=udp:${address}:${port}`,
    `mpath="${MODULES}"`,
    'loadmodule "sl.so"',
    'loadmodule "textops.so"',
    'request_route {',
    // A registrar answers to the packet's source (RFC 3581) whatever the Via says.
    '  force_rport();',
    '  if (is_method("OPTIONS")) { sl_send_reply("200", "OK"); exit; }',
    '  sl_send_reply("404", "Not here");',
    '}',
    '',
  ].join('\n');
}

/**
 * startKamailio runs Kamailio in `role` on address:port (UDP) and resolves once its UDP listener
 * is up; it rejects with Kamailio's last stderr lines when it exits or stays silent for 15 s.
 */
export async function startKamailio(topology: Topology, role: NamespaceRole, address: string, port = 5060): Promise<RunningKamailio> {
  const dir = await mkdtemp(join(tmpdir(), 'algwatch-kamailio-'));
  const config = join(dir, 'kamailio.cfg');
  await writeFile(config, kamailioConfig(address, port));
  const child = topology.spawn(role, 'kamailio', ['-f', config, '-DD', '-E', '-Y', dir, '-P', join(dir, 'kamailio.pid'), '-u', 'root', '-g', 'root']);
  const stop = async () => {
    await child.stop(2_000);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  let exited = false;
  void child.exited.then(() => { exited = true; });
  // Kamailio logs to stderr; it is ready once a child process has bound the UDP socket.
  while (!/SO_RCVBUF is finally/.test(child.stderr())) {
    if (exited || Date.now() > deadline) {
      const why = child.stderr().trim().split('\n').slice(-5).join(' | ');
      await stop();
      throw new Error(`kamailio did not start in ${role} on ${address}:${port} (apt-get install kamailio): ${why || '(no output)'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { process: child, stop };
}
