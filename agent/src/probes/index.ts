/**
 * PROBES is the one registry of probes, keyed by each probe's own name. `check`, the daemon's
 * scheduler and the tests all find probes here; a test keeps every key equal to its probe's name.
 */
import type { ProbeName } from '@algwatch/protocol/events';
import type { Probe } from './probe.js';
import { sipAlgProbe } from './sip-alg.js';
import { stunMappingProbe } from './stun-mapping.js';
import { natBehaviorProbe } from './nat-behavior.js';
import { bindingLifetimeProbe } from './binding-lifetime.js';
import { sipOptionsProbe } from './sip-options.js';
import { crlfKeepaliveProbe } from './crlf-keepalive.js';
import { rtpPathProbe } from './rtp-path.js';

// Options and details differ per probe; the registry is the one place that forgets them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyProbe = Probe<any, any>;

export const PROBES: Readonly<Partial<Record<ProbeName, AnyProbe>>> = {
  [sipAlgProbe.name]: sipAlgProbe,
  [stunMappingProbe.name]: stunMappingProbe,
  [natBehaviorProbe.name]: natBehaviorProbe,
  [bindingLifetimeProbe.name]: bindingLifetimeProbe,
  [sipOptionsProbe.name]: sipOptionsProbe,
  [crlfKeepaliveProbe.name]: crlfKeepaliveProbe,
  [rtpPathProbe.name]: rtpPathProbe,
};
