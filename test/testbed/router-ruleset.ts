/**
 * The router namespace's nftables ruleset: a home/office router that masquerades the LAN behind its
 * one WAN address, drops unsolicited inbound traffic, and optionally runs the Linux SIP ALG.
 */

export interface RouterRulesetOptions {
  lanInterface: string;
  wanInterface: string;
  /** Attach the kernel's `sip` conntrack helper (nf_conntrack_sip + nf_nat_sip) to udp/tcp 5060. */
  sipAlg: boolean;
  /** `masquerade random`: a fresh random public port per connection, i.e. a symmetric NAT. */
  randomPorts: boolean;
}

export const ROUTER_TABLE = 'algwatch_router';

/**
 * routerRuleset renders the ruleset for `nft -f`. Verified empirically on Linux 6.18: with the
 * helper assigned in a prerouting *filter* chain the kernel rewrites Via and Contact of a request
 * from 198.51.100.2:<port> to 203.0.113.1:<port>.
 *
 * Why each piece is there:
 * - Since Linux 4.7 conntrack helpers are no longer attached automatically by port
 *   (nf_conntrack_helper=0, and the sysctl is gone in 6.x): a rule must assign one explicitly.
 * - The assignment has to happen before the connection is confirmed (conntrack confirms at the end of
 *   postrouting), so prerouting at filter priority (after conntrack at -200) is the right place;
 *   `ct state new` keeps it to the packet that creates the connection, the only one where it matters.
 * - nf_nat_sip mangles the payload in the NAT hooks, so the same `masquerade` that translates the
 *   addresses also drives the rewrite of the SIP headers (and SDP) to the public address.
 * - The forward chain drops new inbound connections: the WAN reaches the LAN only through state the
 *   NAT created (and RELATED expectations the SIP helper opens, as on a real router).
 */
export function routerRuleset(options: RouterRulesetOptions): string {
  const helpers = options.sipAlg
    ? [
        '  ct helper sip-udp { type "sip" protocol udp; l3proto ip; }',
        '  ct helper sip-tcp { type "sip" protocol tcp; l3proto ip; }',
        '  chain pre {',
        '    type filter hook prerouting priority filter; policy accept;',
        `    iifname "${options.lanInterface}" udp dport 5060 ct state new ct helper set "sip-udp"`,
        `    iifname "${options.lanInterface}" tcp dport 5060 ct state new ct helper set "sip-tcp"`,
        '  }',
      ]
    : [];
  return [
    `table ip ${ROUTER_TABLE} {`,
    ...helpers,
    '  chain forward {',
    '    type filter hook forward priority filter; policy drop;',
    '    ct state established,related accept',
    `    iifname "${options.lanInterface}" oifname "${options.wanInterface}" accept`,
    '  }',
    '  chain post {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    oifname "${options.wanInterface}" masquerade${options.randomPorts ? ' random' : ''}`,
    '  }',
    '}',
    '',
  ].join('\n');
}
