/** Test helpers for the engine tests: a dispatcher that records messages, and waiting for them. */
import type { AlertDispatcher, DispatchOutcome } from './dispatch.js';
import type { AlertNotification } from './notification.js';

export interface RecordingDispatcher extends AlertDispatcher {
  readonly sent: AlertNotification[];
  /** Makes the next dispatches fail with this error (null: succeed again). */
  failWith: string | null;
}

export function recordingDispatcher(): RecordingDispatcher {
  const dispatcher: RecordingDispatcher = {
    sent: [],
    failWith: null,
    async dispatch(notification): Promise<DispatchOutcome[]> {
      if (dispatcher.failWith !== null) return [{ channel: 'ops-mail', ok: false, error: dispatcher.failWith }];
      dispatcher.sent.push(notification);
      return [{ channel: 'ops-mail', ok: true }];
    },
  };
  return dispatcher;
}

/** waitFor polls `check` until it returns true (or fails the test after `timeoutMs`). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** FAST_TIMING sends at once (group wait 0) and lets a test see a second message soon after the first. */
export const FAST_TIMING = { groupWaitMs: 0, groupIntervalMs: 50, repeatIntervalMs: 3_600_000 };
