/**
 * The agent's socket.io link to the server's `/agent` namespace: connect with `{ token, agentId }`,
 * say hello on every (re)connect, heartbeat, hand over result batches with acks, and pass the
 * server's `config` and `runNow` on. Reconnects with exponential backoff and jitter (socket.io's
 * reconnectionDelay/Max and randomizationFactor) so a restarted server is not hit by the whole
 * fleet at the same second.
 */
import { hostname } from 'node:os';
import type { Socket } from 'socket.io-client';
import {
  AGENT_CONNECT_ERRORS,
  AGENT_NAMESPACE,
  agentConfigSchema,
  helloAckSchema,
  PROTOCOL_VERSION,
  resultsAckSchema,
  runNowSchema,
  type AgentConfig,
  type AgentToServerEvents,
  type Heartbeat,
  type ProbeResultMessage,
  type ResultsAck,
  type RunNow,
  type ServerToAgentEvents,
} from '@algwatch/protocol/events';
import type { Logger } from './log.js';

export const TOKEN_REFUSED_MESSAGE = 'server refused the token: revoked or wrong — enroll again with `algwatch-server site add`';

export interface ConnectionOptions {
  server: string;
  token: string;
  agentId: string;
  agentVersion: string;
  log: Logger;
  heartbeatMs?: number;
  ackTimeoutMs?: number;
  /** First and largest reconnect delay; socket.io doubles it per failure with ±50% jitter. */
  reconnectDelayMs?: number;
  reconnectDelayMaxMs?: number;
  heartbeat: () => Heartbeat;
  /** After every successful hello: the site and the config the server wants run. */
  onReady: (site: { siteId: string; siteName: string }, config: AgentConfig) => void;
  onConfig: (config: AgentConfig) => void;
  onRunNow: (request: RunNow) => void;
  /** The server will never accept this agent as it is (token refused): the daemon must stop. */
  onFatal: (message: string) => void;
}

type AgentSocket = Socket<ServerToAgentEvents, AgentToServerEvents>;

/**
 * Connection keeps one socket to the server. `ready` is true between a successful hello and the
 * next disconnect; results are only sent while ready.
 */
export class Connection {
  ready = false;
  private socket: AgentSocket | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private downSince: number | null = null;
  private failures = 0;
  private closed = false;

  constructor(private readonly options: ConnectionOptions) {}

  /** start opens the socket; it keeps reconnecting until close() or a fatal refusal. */
  async start(): Promise<void> {
    // Lazy: `algwatch-agent check` never pays for loading socket.io-client.
    const { io } = await import('socket.io-client');
    const url = new URL(this.options.server);
    const basePath = url.pathname.replace(/\/+$/, '');
    const delay = this.options.reconnectDelayMs ?? 1_000;
    this.socket = io(`${url.origin}${AGENT_NAMESPACE}`, {
      // A server behind a reverse proxy at https://host/algwatch serves socket.io at /algwatch/socket.io.
      path: `${basePath}/socket.io`,
      auth: { token: this.options.token, agentId: this.options.agentId },
      reconnection: true,
      reconnectionDelay: delay,
      reconnectionDelayMax: this.options.reconnectDelayMaxMs ?? 60_000,
      randomizationFactor: 0.5,
      autoConnect: false,
    });
    this.socket.on('connect', () => void this.hello());
    this.socket.on('connect_error', (err) => this.connectFailed(err));
    this.socket.on('disconnect', (reason) => this.disconnected(reason));
    this.socket.on('config', (config) => this.received('config', agentConfigSchema.safeParse(config), this.options.onConfig));
    this.socket.on('runNow', (request) => this.received('runNow', runNowSchema.safeParse(request), this.options.onRunNow));
    this.heartbeatTimer = setInterval(() => {
      if (this.ready) this.socket?.emit('heartbeat', this.options.heartbeat());
    }, this.options.heartbeatMs ?? 30_000);
    this.socket.connect();
  }

  /**
   * sendResults hands one batch to the server and returns its parsed ack; throws when the server did
   * not answer in time or answered something that is not an ack (the batch is then resent later).
   */
  async sendResults(results: ProbeResultMessage[]): Promise<ResultsAck> {
    const socket = this.socket;
    if (!socket || !this.ready) throw new Error('not connected');
    const reply: unknown = await socket.timeout(this.options.ackTimeoutMs ?? 30_000).emitWithAck('results', { results });
    const parsed = resultsAckSchema.safeParse(reply);
    if (!parsed.success) throw new Error('the server answered the results with something that is not an ack');
    return parsed.data;
  }

  /** close disconnects for good and stops the heartbeat. */
  close(): void {
    this.closed = true;
    this.ready = false;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.disconnect();
    this.socket?.removeAllListeners();
  }

  private async hello(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    let reply: unknown;
    try {
      reply = await socket
        .timeout(this.options.ackTimeoutMs ?? 30_000)
        .emitWithAck('hello', { protocol: PROTOCOL_VERSION, agentVersion: this.options.agentVersion, hostname: hostname() });
    } catch {
      return this.retryLater('the server did not answer hello in time');
    }
    const parsed = helloAckSchema.safeParse(reply);
    if (!parsed.success) return this.retryLater('the server answered hello with something this agent does not understand (update the agent?)');
    if (!parsed.data.ok) return this.retryLater(`the server refused hello: ${parsed.data.error}`);
    const { siteId, siteName, config } = parsed.data;
    const outage = this.downSince === null ? '' : ` after ${Math.round((Date.now() - this.downSince) / 1000)} s without it`;
    this.options.log.info(`connected to ${this.options.server} as site ${siteName}${outage}`, { siteId });
    this.downSince = null;
    this.failures = 0;
    this.ready = true;
    this.options.onReady({ siteId, siteName }, config);
  }

  private connectFailed(err: Error & { data?: unknown }): void {
    if (this.closed) return;
    if (err.message === AGENT_CONNECT_ERRORS.tokenRefused || err.message === AGENT_CONNECT_ERRORS.badAgentId) {
      this.close();
      this.options.onFatal(
        err.message === AGENT_CONNECT_ERRORS.tokenRefused
          ? TOKEN_REFUSED_MESSAGE
          : `server refused the agent id "${this.options.agentId}": use 1 to 100 characters (--agent-id or ALGWATCH_AGENT_ID)`,
      );
      return;
    }
    this.noteDown(`cannot reach ${this.options.server}: ${err.message}`);
    // A refusal by the server's middleware is not retried by socket.io itself (socket.active is false).
    if (this.socket && !this.socket.active) this.retryLater(null);
  }

  private disconnected(reason: string): void {
    this.ready = false;
    if (this.closed) return;
    this.noteDown(`lost the connection to ${this.options.server} (${reason}); results wait in the outbox`);
    // The server kicked us (io server disconnect): socket.io does not reconnect on its own then.
    if (reason === 'io server disconnect') this.retryLater(null);
  }

  /** noteDown logs the first failure of an outage as a warning and the rest at debug level. */
  private noteDown(message: string): void {
    if (this.downSince === null) {
      this.downSince = Date.now();
      this.options.log.warn(`${message}; retrying with backoff`);
    } else {
      this.options.log.debug(message);
    }
  }

  private retryLater(reason: string | null): void {
    if (this.closed || !this.socket) return;
    if (reason) this.noteDown(reason);
    this.ready = false;
    this.socket.disconnect();
    const base = this.options.reconnectDelayMs ?? 1_000;
    const ceiling = this.options.reconnectDelayMaxMs ?? 60_000;
    const delay = Math.min(ceiling, base * 2 ** this.failures) * (0.5 + Math.random());
    this.failures = Math.min(this.failures + 1, 30);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.socket?.connect(), delay);
  }

  private received<T>(event: string, parsed: { success: true; data: T } | { success: false }, deliver: (value: T) => void): void {
    if (parsed.success) deliver(parsed.data);
    else this.options.log.warn(`ignored a ${event} message from the server that this agent does not understand (update the agent?)`);
  }
}
