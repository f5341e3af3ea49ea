/**
 * The gate in front of every namespace test. Building the testbed needs root and `ip netns`; a
 * developer without them gets a loud notice and skipped tests, but CI (ALGWATCH_REQUIRE_NETNS=1)
 * must never go green by skipping the only tests that run a real kernel ALG: there it fails.
 */
import { spawnSync } from 'node:child_process';

/** NetnsCapabilities is what the gate looked at; `missing` is null when everything is there. */
export interface NetnsCapabilities {
  isRoot: boolean;
  /** One line naming the first missing tool or privilege, or null. */
  missing: string | null;
}

/** netnsGateDecision is the pure decision: run, skip (with a notice), or fail (with a reason). */
export type NetnsGateDecision = { run: true } | { run: false; fail: boolean; reason: string };

export const REQUIRE_NETNS_VARIABLE = 'ALGWATCH_REQUIRE_NETNS';

/** probeNetnsCapabilities checks for root, `ip netns`, `nft` and `conntrack` (no side effects). */
export function probeNetnsCapabilities(): NetnsCapabilities {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) return { isRoot, missing: 'not running as root (network namespaces need CAP_NET_ADMIN and CAP_SYS_ADMIN)' };
  for (const [command, args] of [
    ['ip', ['netns', 'list']],
    ['nft', ['--version']],
    ['conntrack', ['--version']],
  ] as const) {
    const result = spawnSync(command, args, { stdio: 'ignore', timeout: 5_000 });
    if (result.error || result.status !== 0) {
      const why = result.error ? (result.error as NodeJS.ErrnoException).code ?? result.error.message : `exit ${result.status}`;
      return { isRoot, missing: `\`${command} ${args.join(' ')}\` failed (${why}): install iproute2, nftables and conntrack` };
    }
  }
  return { isRoot, missing: null };
}

/**
 * netnsGateDecision decides from the capabilities and the environment. Missing capabilities are a
 * skip for a developer and a failure when ALGWATCH_REQUIRE_NETNS=1.
 */
export function netnsGateDecision(capabilities: NetnsCapabilities, env: NodeJS.ProcessEnv): NetnsGateDecision {
  if (capabilities.missing === null) return { run: true };
  return { run: false, fail: env[REQUIRE_NETNS_VARIABLE] === '1', reason: capabilities.missing };
}

/**
 * requireNetns returns true when the namespace testbed can be built. Otherwise it prints a loud
 * notice and returns false (use it as `describe.runIf(requireNetns())`), or, when the environment
 * requires namespaces (CI), throws so the test file fails with the reason instead of skipping.
 */
export function requireNetns(env: NodeJS.ProcessEnv = process.env): boolean {
  const decision = netnsGateDecision(probeNetnsCapabilities(), env);
  if (decision.run) return true;
  if (decision.fail) {
    throw new Error(`${REQUIRE_NETNS_VARIABLE}=1 but the namespace testbed cannot run: ${decision.reason}`);
  }
  const banner = '!'.repeat(100);
  console.warn(
    `\n${banner}\n!!! SKIPPING the network-namespace tests (real kernel SIP ALG and NAT): ${decision.reason}\n` +
      `!!! Run them as root, or set ${REQUIRE_NETNS_VARIABLE}=1 to make this a failure (CI does).\n${banner}\n`,
  );
  return false;
}
