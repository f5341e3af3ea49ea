/**
 * The namespace testbed: a real Linux router between an agent and a server, so the end-to-end tests
 * meet the kernel's own NAT and SIP ALG (nf_conntrack_sip / nf_nat_sip), not a simulation.
 *
 *   lan  198.51.100.2/24 (eth0) ── lan0 198.51.100.1 │ router │ wan0 203.0.113.1 ── eth0 203.0.113.10 + .11/24  wan
 *
 * The lan's default route is the router; the wan has no route to 198.51.100.0/24 and the router
 * drops new inbound connections, so the wan reaches the lan only through the NAT's own state.
 */
import { afterAll, beforeAll } from 'vitest';
import { runCommand, startProcess, tail, type CommandResult, type ManagedProcess, type RunCommandOptions, type StartProcessOptions } from '../helpers/process.js';
import { deleteNamespaceSync, NAMESPACE_PREFIX, registerNamespace, sweepStaleNamespacesSync } from './namespace-cleanup.js';
import { routerRuleset } from './router-ruleset.js';

export interface TopologyOptions {
  /** Attach the kernel SIP ALG to udp and tcp port 5060 on the router. Default false. */
  sipAlg?: boolean;
  /** `masquerade random`: a new random public port per destination (symmetric NAT). Default false. */
  randomPorts?: boolean;
  /** Router's UDP conntrack timeouts (both nf_conntrack_udp_timeout and _stream), in seconds. */
  udpTimeoutSeconds?: number;
  /** Router's nf_conntrack_udp_timeout_stream alone (flows with two-way traffic past ~2 s); overrides udpTimeoutSeconds for it. */
  udpStreamTimeoutSeconds?: number;
}

export type NamespaceRole = 'lan' | 'router' | 'wan';

/** TESTBED_ADDRESSES are fixed (documentation ranges, RFC 5737); only namespace names vary. */
export const TESTBED_ADDRESSES = {
  agent: '198.51.100.2',
  routerLan: '198.51.100.1',
  /** The router's public address: what the NAT (and the ALG) put in place of the agent's. */
  routerWan: '203.0.113.1',
  server: '203.0.113.10',
  /** The reflector's RFC 5780 alternate address. */
  serverAlt: '203.0.113.11',
} as const;

/** Interface names inside the namespaces (each namespace has its own, so they never clash). */
export const TESTBED_INTERFACES = { lan: 'eth0', routerLan: 'lan0', routerWan: 'wan0', wan: 'eth0' } as const;

export interface Topology {
  /** Namespace name per role, e.g. `aw-4242-1-lan`. */
  readonly namespaces: Readonly<Record<NamespaceRole, string>>;
  readonly options: Required<Pick<TopologyOptions, 'sipAlg' | 'randomPorts'>> & Pick<TopologyOptions, 'udpTimeoutSeconds' | 'udpStreamTimeoutSeconds'>;
  /** exec runs a command inside a namespace to completion (`ip netns exec NS ...`). */
  exec(role: NamespaceRole, command: string, args: readonly string[], options?: RunCommandOptions): Promise<CommandResult>;
  /** spawn starts a long-lived process inside a namespace; it is stopped by `destroy()`. */
  spawn(role: NamespaceRole, command: string, args: readonly string[], options?: StartProcessOptions): ManagedProcess;
  /** destroy stops every spawned process and deletes the namespaces. Safe to call twice. */
  destroy(): Promise<void>;
}

let created = 0;

/**
 * createTopology builds lan — router — wan and resolves once the router's ruleset is loaded. It
 * rejects (after deleting whatever it had built) with the failing command and its stderr. Topologies
 * are also deleted by the exit and signal hooks of namespace-cleanup.ts if `destroy()` never runs.
 */
export async function createTopology(options: TopologyOptions = {}): Promise<Topology> {
  sweepStaleNamespacesSync();
  created += 1;
  const base = `${NAMESPACE_PREFIX}${process.pid}-${created}`;
  const namespaces = { lan: `${base}-lan`, router: `${base}-router`, wan: `${base}-wan` } as const;
  const processes = new Set<ManagedProcess>();
  let destroyed = false;

  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    await Promise.all([...processes].map((child) => child.stop(1_000)));
    for (const name of Object.values(namespaces)) deleteNamespaceSync(name);
  };
  const topology: Topology = {
    namespaces,
    options: { sipAlg: options.sipAlg ?? false, randomPorts: options.randomPorts ?? false, udpTimeoutSeconds: options.udpTimeoutSeconds, udpStreamTimeoutSeconds: options.udpStreamTimeoutSeconds },
    exec: (role, command, args, runOptions) => runCommand('ip', ['netns', 'exec', namespaces[role], command, ...args], runOptions),
    spawn: (role, command, args, spawnOptions) => {
      if (destroyed) throw new Error(`topology ${base} is destroyed`);
      const child = startProcess('ip', ['netns', 'exec', namespaces[role], command, ...args], spawnOptions);
      processes.add(child);
      void child.exited.then(() => processes.delete(child));
      return child;
    },
    destroy,
  };
  try {
    await build(namespaces, topology.options);
  } catch (err) {
    await destroy();
    throw err;
  }
  return topology;
}

async function build(namespaces: Record<NamespaceRole, string>, options: Topology['options']): Promise<void> {
  const a = TESTBED_ADDRESSES;
  const i = TESTBED_INTERFACES;
  for (const name of Object.values(namespaces)) {
    registerNamespace(name);
    await ip('netns', 'add', name);
  }
  // Each veth is created directly with its ends inside the namespaces, so nothing touches the
  // host's own namespace and the short fixed interface names never clash between test files.
  await ip('link', 'add', i.lan, 'netns', namespaces.lan, 'type', 'veth', 'peer', 'name', i.routerLan, 'netns', namespaces.router);
  await ip('link', 'add', i.routerWan, 'netns', namespaces.router, 'type', 'veth', 'peer', 'name', i.wan, 'netns', namespaces.wan);

  const lan = ['-n', namespaces.lan];
  const router = ['-n', namespaces.router];
  const wan = ['-n', namespaces.wan];
  await ip(...lan, 'addr', 'add', `${a.agent}/24`, 'dev', i.lan);
  await ip(...router, 'addr', 'add', `${a.routerLan}/24`, 'dev', i.routerLan);
  await ip(...router, 'addr', 'add', `${a.routerWan}/24`, 'dev', i.routerWan);
  await ip(...wan, 'addr', 'add', `${a.server}/24`, 'dev', i.wan);
  await ip(...wan, 'addr', 'add', `${a.serverAlt}/24`, 'dev', i.wan);
  for (const [ns, ifname] of [[lan, i.lan], [router, i.routerLan], [router, i.routerWan], [wan, i.wan]] as const) {
    await ip(...ns, 'link', 'set', ifname, 'up');
  }
  for (const ns of [lan, router, wan]) await ip(...ns, 'link', 'set', 'lo', 'up');
  await ip(...lan, 'route', 'add', 'default', 'via', a.routerLan);

  const sysctls = ['net.ipv4.ip_forward=1'];
  if (options.udpTimeoutSeconds !== undefined) {
    // A UDP flow that has seen replies moves to the _stream timeout; set both so the binding dies
    // after the configured idle time whatever its state (the router under test has one lifetime).
    const seconds = String(options.udpTimeoutSeconds);
    sysctls.push(`net.netfilter.nf_conntrack_udp_timeout=${seconds}`, `net.netfilter.nf_conntrack_udp_timeout_stream=${seconds}`);
  }
  if (options.udpStreamTimeoutSeconds !== undefined) sysctls.push(`net.netfilter.nf_conntrack_udp_timeout_stream=${options.udpStreamTimeoutSeconds}`);
  await must(
    runCommand('ip', ['netns', 'exec', namespaces.router, 'nft', '-f', '-'], {
      input: routerRuleset({ lanInterface: i.routerLan, wanInterface: i.routerWan, sipAlg: options.sipAlg, randomPorts: options.randomPorts }),
    }),
    `nft -f (router ruleset) in ${namespaces.router}`,
  );
  await must(runCommand('ip', ['netns', 'exec', namespaces.router, 'sysctl', '-q', '-w', ...sysctls]), `sysctl in ${namespaces.router}`);
}

function ip(...args: string[]): Promise<CommandResult> {
  return must(runCommand('ip', args), `ip ${args.join(' ')}`);
}

async function must(pending: Promise<CommandResult>, what: string): Promise<CommandResult> {
  const result = await pending;
  if (result.code !== 0) throw new Error(`testbed: ${what} failed (exit ${result.code ?? result.signal}): ${tail(result.stderr)}`);
  return result;
}

/**
 * useTopology builds one topology for the enclosing describe (beforeAll) and destroys it afterwards
 * (afterAll, which vitest runs even when tests or the beforeAll fail). Call it while collecting.
 */
export function useTopology(options: TopologyOptions = {}): () => Topology {
  let topology: Topology | undefined;
  beforeAll(async () => {
    topology = await createTopology(options);
  });
  afterAll(async () => {
    await topology?.destroy();
  });
  return () => {
    if (!topology) throw new Error('the testbed topology was not built (see the beforeAll error above)');
    return topology;
  };
}
