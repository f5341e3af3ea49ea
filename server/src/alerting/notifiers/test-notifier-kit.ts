/**
 * Test kit every notifier's test runs (the idea of Alertmanager's notify/test): against a real
 * receiver on loopback, a notifier resolves when the receiver accepted, says "retry" for a temporary
 * refusal, a hang past the attempt's deadline and an unreachable receiver, says "do not retry" for a
 * permanent refusal, and never puts one of the channel's secrets in an error. Used by tests only.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NotifyError, type Notifier } from '../notification.js';
import { firingNotification } from './test-notifications.js';

/** How the receiver answers: accept; a temporary refusal (HTTP 5xx, SMTP 4xx); a permanent one (HTTP 4xx, SMTP 5xx); never. */
export type KitAnswer = 'accept' | 'transient' | 'permanent' | 'hang';

export interface NotifierUnderTest {
  notifier: Notifier;
  /** Messages the receiver was sent so far, accepted or not. */
  deliveries(): number;
  close(): Promise<void>;
}

export interface NotifierHarness {
  kind: Notifier['kind'];
  /** The channel's secrets (password, signing secret, Slack URL path): none may appear in an error. */
  secrets: string[];
  /** Starts a receiver that answers every message with `answer`, and a notifier pointed at it. */
  start(answer: KitAnswer): Promise<NotifierUnderTest>;
  /** A notifier pointed at `port` on 127.0.0.1, where nobody listens. */
  unreachable(port: number): Notifier;
}

/** The attempt deadline the kit gives a hanging receiver (the caller's AbortSignal, as deliver() sets it). */
const HANG_DEADLINE_MS = 300;

/** runNotifierKit registers the kit's tests for one notifier. */
export function runNotifierKit(harness: NotifierHarness): void {
  describe(`${harness.kind} notifier (shared notifier kit)`, () => {
    const open: NotifierUnderTest[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((started) => started.close()));
    });
    const start = async (answer: KitAnswer) => {
      const started = await harness.start(answer);
      open.push(started);
      return started;
    };

    it('resolves once the receiver accepted the message', async () => {
      const { notifier, deliveries } = await start('accept');
      expect(notifier.kind).toBe(harness.kind);
      await notifier.notify(firingNotification(), new AbortController().signal);
      expect(deliveries()).toBe(1);
    });

    it('marks a temporary refusal retryable, without a secret in the error', async () => {
      const { notifier } = await start('transient');
      const error = await notifyError(notifier);
      expect(error.retryable).toBe(true);
      expectNoSecret(error, harness.secrets);
    });

    it('marks a permanent refusal as not retryable, without a secret in the error', async () => {
      const { notifier } = await start('permanent');
      const error = await notifyError(notifier);
      expect(error.retryable).toBe(false);
      expectNoSecret(error, harness.secrets);
    });

    it('gives up with a retryable error when the receiver hangs past the deadline', async () => {
      const { notifier } = await start('hang');
      const error = await notifyError(notifier, AbortSignal.timeout(HANG_DEADLINE_MS));
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/timed out: no answer in time$/);
      expectNoSecret(error, harness.secrets);
    });

    it('marks an unreachable receiver retryable, without a secret in the error', async () => {
      const error = await notifyError(harness.unreachable(await closedPort()));
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/refused/);
      expectNoSecret(error, harness.secrets);
    });
  });
}

async function notifyError(notifier: Notifier, signal: AbortSignal = new AbortController().signal): Promise<NotifyError> {
  try {
    await notifier.notify(firingNotification(), signal);
  } catch (error) {
    expect(error).toBeInstanceOf(NotifyError);
    return error as NotifyError;
  }
  throw new Error('notify resolved, but the receiver refused or never answered');
}

/** expectNoSecret checks the error's message, stack and own fields for every secret. */
export function expectNoSecret(error: Error, secrets: readonly string[]): void {
  const shown = `${error.message}\n${error.stack ?? ''}\n${JSON.stringify(error)}`;
  for (const secret of secrets) expect(shown).not.toContain(secret);
  expect(error.message).not.toContain('\n');
}

/** closedPort returns a loopback port that was free a moment ago (connections to it are refused). */
export async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** startSilentTcpServer accepts connections and never says a word (an SMTP server that hangs). */
export async function startSilentTcpServer(): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  let connections = 0;
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
