/**
 * The agents' socket.io gateway on namespace `/agent`. A connection is admitted only with a valid,
 * unrevoked site token; from then on the token alone says which site the agent writes to. Every
 * event's payload is parsed with the protocol schemas and answered with an Ack; results go through
 * ingestResults, the single path into storage.
 *
 * Whoever creates the socket.io Server must pass AGENT_SERVER_OPTIONS (maxHttpBufferSize =
 * MAX_MESSAGE_BYTES, boundedSocketIoParser): socket.io enforces the size while reading and the
 * parser the nesting before JSON.parse, before any handler runs; either drops the connection that
 * sent the message (nothing of it is stored).
 */
import type { Namespace, Server, ServerOptions, Socket } from 'socket.io';
import {
  AGENT_CONNECT_ERRORS,
  AGENT_NAMESPACE,
  MAX_MESSAGE_BYTES,
  agentAuthSchema,
  agentConfigSchema,
  heartbeatSchema,
  helloSchema,
  runNowSchema,
  type AgentConfig,
  type AgentToServerEvents,
  type ProbeName,
  type ServerToAgentEvents,
} from '@algwatch/protocol/events';
import { SourceRateLimiter } from '../reflector/rate-limit.js';
import type { Site } from '../relational/relational-store.js';
import { describeIssues } from './describe-issues.js';
import { ingestResults, type IngestDeps } from './ingest-results.js';
import { SeenResultsBatcher } from './seen-results-batcher.js';
import { probeKeyOfTokenHash } from '@algwatch/protocol/probe-signature';
import { hashAgentToken } from '../relational/agent-token.js';
import { SeenResultStore } from '../relational/seen-result-store.js';
import { DEFAULT_SITE_QUOTA, SiteQuotas, type SiteQuotaLimits } from './site-quota.js';
import { boundedSocketIoParser } from './bounded-parser.js';
import { guardHandshakes, HANDSHAKE_TIMEOUT_MS, type HandshakeGuard } from './handshake-guard.js';

/**
 * AGENT_SERVER_OPTIONS are the socket.io Server options the agent gateway relies on: the message
 * size bound, and a parser that refuses deeply nested packets before parsing them.
 */
export const AGENT_SERVER_OPTIONS = {
  maxHttpBufferSize: MAX_MESSAGE_BYTES,
  parser: boundedSocketIoParser,
  connectTimeout: HANDSHAKE_TIMEOUT_MS,
} satisfies Partial<ServerOptions>;

const INVALID_AGENT_TOKEN = AGENT_CONNECT_ERRORS.tokenRefused;
const INVALID_AGENT_ID = AGENT_CONNECT_ERRORS.badAgentId;
const SERVER_UNAVAILABLE = AGENT_CONNECT_ERRORS.serverUnavailable;
const TOO_MANY_FAILED_LOGINS = AGENT_CONNECT_ERRORS.tooManyFailedLogins;

export interface ResultsRateLimit {
  /** Batches per second a connection may send in the long run. */
  ratePerSecond: number;
  /** Batches a connection may send at once (an outbox flushing after an outage). */
  burst: number;
}

/** Up to 200 results a batch, this lets one agent sustain 400 results/s and flush 6,000 at once. */
export const DEFAULT_RESULTS_RATE: ResultsRateLimit = { ratePerSecond: 2, burst: 30 };

/**
 * Refused logins an address may make: 20 at once, then one per 10 s. A token is 256 random bits,
 * so this is not what stops guessing; it stops one broken or hostile host from costing a token
 * lookup and a log line per attempt. Legitimate agents never retry a refused token (they exit), so
 * a throttled address is a misconfigured script or an attack.
 */
export const DEFAULT_FAILED_LOGIN_RATE: ResultsRateLimit = { ratePerSecond: 0.1, burst: 20 };

export interface AgentGatewayDeps extends IngestDeps {
  /** The reflector host agents are told to probe (sent in every AgentConfig). */
  reflectorHost: string;
  /** The reflector's ports when not the standard 5060/5061/3478 (sent to agents in every config). */
  reflectorPorts?: AgentConfig['reflectorPorts'];
  resultsRate?: ResultsRateLimit;
  failedLoginRate?: ResultsRateLimit;
  /** How stale a connected agent's token check may get (default TOKEN_RECHECK_MS). */
  tokenRecheckMs?: number;
  /** Per-site budgets over all of a site's connections (default DEFAULT_SITE_QUOTA). */
  siteQuota?: SiteQuotaLimits;
  /** The server's guard of unauthenticated connections; the gateway creates one when not given. */
  handshakes?: HandshakeGuard;
}

export interface AgentGateway {
  /** pushConfig sends a site's current AgentConfig to its connected agents; resolves to how many. */
  pushConfig(siteId: string): Promise<number>;
  /** runNow asks a site's connected agents to run probes now; resolves to how many were asked. */
  runNow(siteId: string, probes: ProbeName[]): Promise<number>;
  /** disconnectSite drops a site's agents (after its tokens were revoked in this process). */
  disconnectSite(siteId: string): void;
  /** recheckTokens checks the tokens of a site's agents connected here and drops those no longer valid; resolves to how many. */
  recheckTokens(siteId: string): Promise<number>;
}

interface AgentSocketData {
  site: Site;
  agentId: string;
  token: string;
  batches: SourceRateLimiter;
  rateLimitLogged: boolean;
  /** When the token was last found valid (performance.now()). */
  tokenCheckedAt: number;
}

/** How stale a connected agent's token check may get: a revoked token stops writing within this. */
export const TOKEN_RECHECK_MS = 5_000;

type AgentNamespace = Namespace<AgentToServerEvents, ServerToAgentEvents, Record<string, never>, AgentSocketData>;
type AgentSocket = Socket<AgentToServerEvents, ServerToAgentEvents, Record<string, never>, AgentSocketData>;

const siteRoom = (siteId: string) => `site:${siteId}`;

/** attachAgentGateway registers authentication and the agent event handlers on `io.of('/agent')`. */
export function attachAgentGateway(io: Server, gatewayDeps: AgentGatewayDeps): AgentGateway {
  // Concurrent batches of all connected agents are marked seen together, one statement per flush.
  const seenStore = new SeenResultStore(gatewayDeps.relational.db);
  const deps: AgentGatewayDeps = { seenResults: new SeenResultsBatcher(seenStore), knownResults: seenStore, ...gatewayDeps };
  const namespace = io.of(AGENT_NAMESPACE) as unknown as AgentNamespace;
  const rate = deps.resultsRate ?? DEFAULT_RESULTS_RATE;
  const quotas = new SiteQuotas(deps.siteQuota ?? DEFAULT_SITE_QUOTA);
  const quotaLogged = new Set<string>();

  const agentConfig = async (siteId: string): Promise<AgentConfig> =>
    agentConfigSchema.parse({
      ...(await deps.relational.getAgentConfig(siteId)),
      reflectorHost: deps.reflectorHost,
      ...(deps.reflectorPorts ? { reflectorPorts: deps.reflectorPorts } : {}),
    });

  const handshakes = deps.handshakes ?? guardHandshakes(io);
  const failedLogins = new SourceRateLimiter({ ...(deps.failedLoginRate ?? DEFAULT_FAILED_LOGIN_RATE), maxSources: 10_000 });
  const throttledLogged = new Set<string>();

  namespace.use((socket, next) => {
    const address = socket.handshake.address;
    // Only refused logins take tokens, so a thousand agents behind one NAT reconnecting at once are
    // never throttled; lookups already in flight when the bucket runs dry may overshoot it a little.
    if (failedLogins.exhausted(address)) {
      // One line when an address starts being throttled, not one per attempt.
      if (!throttledLogged.has(address)) {
        if (throttledLogged.size >= 10_000) throttledLogged.clear();
        throttledLogged.add(address);
        deps.log.warn({ address }, 'too many refused agent logins from this address; refusing its logins for a while');
      }
      return next(new Error(TOO_MANY_FAILED_LOGINS));
    }
    throttledLogged.delete(address);
    const auth = agentAuthSchema.safeParse(socket.handshake.auth);
    const refuse = (reason: string) => {
      failedLogins.allow(address);
      deps.log.warn({ address, reason }, 'refused agent connection');
      next(new Error(reason));
    };
    if (!auth.success) {
      const badToken = auth.error.issues.some((issue) => issue.path[0] === 'token');
      return refuse(badToken ? INVALID_AGENT_TOKEN : INVALID_AGENT_ID);
    }
    deps.relational.authenticateToken(auth.data.token).then(
      (site) => {
        if (!site) return refuse(INVALID_AGENT_TOKEN);
        socket.data = {
          site,
          agentId: auth.data.agentId,
          token: auth.data.token,
          batches: new SourceRateLimiter({ ...rate, maxSources: 1 }),
          tokenCheckedAt: performance.now(),
          rateLimitLogged: false,
        };
        handshakes.admitted(socket);
        next();
      },
      (error: unknown) => {
        deps.log.error({ err: error }, 'agent authentication failed');
        next(new Error(SERVER_UNAVAILABLE));
      },
    );
  });

  namespace.on('connection', (socket) => {
    const { site, agentId } = socket.data;
    const logFields = { site: site.name, tenant: site.tenantName, agent: agentId };
    void socket.join(siteRoom(site.id));
    deps.log.info(logFields, 'agent connected');
    // Every message counts against the site's bytes of the day, as it arrived on the wire.
    socket.conn.on('packet', (packet: { type: string; data?: unknown }) => {
      if (packet.type === 'message' && typeof packet.data === 'string') quotas.countBytes(site.id, packet.data.length);
    });
    socket.on('disconnect', (reason) => deps.log.info({ ...logFields, reason }, 'agent disconnected'));

    socket.on('hello', (payload: unknown, ack: unknown) => {
      const reply = ackFunction(ack);
      const hello = helloSchema.safeParse(payload);
      if (!hello.success) {
        const error = `invalid hello: ${describeIssues(hello.error)}`;
        deps.log.warn({ ...logFields, reason: error }, 'rejected hello');
        return reply({ ok: false, error });
      }
      deps.relational
        .recordAgentHello(site.id, { agentId, hostname: hello.data.hostname, version: hello.data.agentVersion })
        .then(() => agentConfig(site.id))
        .then((config) => withProbeKey(config, socket.data.token))
        .then(
          (config) => reply({ ok: true, siteId: site.id, siteName: site.name, config }),
          (error: unknown) => {
            deps.log.error({ ...logFields, err: error }, 'hello failed');
            reply({ ok: false, error: SERVER_UNAVAILABLE });
          },
        );
    });

    socket.on('heartbeat', (payload: unknown) => {
      const beat = heartbeatSchema.safeParse(payload);
      if (!beat.success) {
        deps.log.warn({ ...logFields, reason: `invalid heartbeat: ${describeIssues(beat.error)}` }, 'rejected heartbeat');
        return;
      }
      deps.relational
        .recordHeartbeat(site.id, agentId, beat.data)
        .catch((error: unknown) => deps.log.error({ ...logFields, err: error }, 'heartbeat not recorded'));
    });

    socket.on('results', (payload: unknown, ack: unknown) => {
      const reply = ackFunction(ack);
      receiveResults(socket, payload).then(reply, (error: unknown) => {
        deps.log.error({ ...logFields, err: error }, 'results batch failed');
        reply({ ok: false, error: SERVER_UNAVAILABLE });
      });
    });
  });

  async function receiveResults(socket: AgentSocket, payload: unknown): Promise<object> {
    const data = socket.data;
    if (!data.batches.allow('batches')) {
      const error = `rate limited: at most ${rate.ratePerSecond} results batches per second (burst ${rate.burst}) per connection, send again later`;
      // Once per connection: a misbehaving agent must not turn the log into the flood.
      if (!data.rateLimitLogged) deps.log.warn({ site: data.site.name, agent: data.agentId }, 'results batches rate limited');
      data.rateLimitLogged = true;
      return { ok: false, error };
    }
    // Re-checked while connected so `site revoke` cuts off an agent that is already connected, at
    // most every TOKEN_RECHECK_MS: once per batch was a third of ingest's database work.
    const now = performance.now();
    const site = now - data.tokenCheckedAt < (deps.tokenRecheckMs ?? TOKEN_RECHECK_MS) ? data.site : await deps.relational.authenticateToken(data.token);
    if (site !== data.site) data.tokenCheckedAt = now;
    if (!site || site.id !== data.site.id) {
      deps.log.warn({ site: data.site.name, agent: data.agentId }, 'token revoked: disconnecting agent');
      setImmediate(() => socket.disconnect(true));
      return { ok: false, error: INVALID_AGENT_TOKEN };
    }
    const count = Array.isArray((payload as { results?: unknown } | null)?.results) ? (payload as { results: unknown[] }).results.length : 0;
    const overQuota = quotas.takeResults(site.id, count);
    if (overQuota) {
      // Once per site until the server restarts: the agent keeps its outbox and logs it on its side.
      if (!quotaLogged.has(site.id)) deps.log.warn({ site: site.name, tenant: site.tenantName, agent: data.agentId, reason: overQuota }, 'site quota exceeded');
      quotaLogged.add(site.id);
      return { ok: false, error: overQuota };
    }
    return ingestResults(deps, { site, agentId: data.agentId }, payload);
  }

  return {
    async pushConfig(siteId) {
      const config = await agentConfig(siteId);
      const sockets = await namespace.in(siteRoom(siteId)).fetchSockets();
      // One emit per agent: each signs its probes with the key of its own token.
      for (const socket of sockets) socket.emit('config', withProbeKey(config, socket.data.token));
      return sockets.length;
    },
    async runNow(siteId, probes) {
      const request = runNowSchema.parse({ probes });
      const sockets = await namespace.in(siteRoom(siteId)).fetchSockets();
      namespace.to(siteRoom(siteId)).emit('runNow', request);
      return sockets.length;
    },
    disconnectSite(siteId) {
      namespace.in(siteRoom(siteId)).disconnectSockets(true);
    },
    async recheckTokens(siteId) {
      let cut = 0;
      const verdicts = new Map<string, Promise<Site | null>>();
      for (const socket of await namespace.local.in(siteRoom(siteId)).fetchSockets()) {
        const { token } = socket.data;
        if (!verdicts.has(token)) verdicts.set(token, deps.relational.authenticateToken(token));
        const site = await verdicts.get(token);
        if (site?.id === siteId) continue;
        socket.disconnect(true);
        cut++;
      }
      return cut;
    },
  };
}

/** ackFunction tolerates a client that sent no ack callback (the reply then goes nowhere). */
function ackFunction(ack: unknown): (reply: object) => void {
  return typeof ack === 'function' ? (reply) => (ack as (reply: object) => void)(reply) : () => {};
}

/** withProbeKey adds the key an agent signs its reflector probes with, derived from its token's hash as the reflector derives it. */
function withProbeKey(config: AgentConfig, token: string): AgentConfig {
  const key = probeKeyOfTokenHash(hashAgentToken(token));
  return { ...config, probeKey: { id: key.id, secret: key.secret.toString('base64url') } };
}
