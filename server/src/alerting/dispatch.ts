/**
 * AlertDispatcher is how the engine hands a claimed notification to the channels: every channel of
 * the tenant (its own and those for all tenants). The real one sits on the notifiers' ChannelStore
 * and `deliver` (retries, backoff, timeouts); notifierDispatcher serves tests and `local`.
 */
import type { AlertNotification, Notifier } from './notification.js';

/** One channel's outcome: delivered, or the last error (one line, never a secret). */
export interface DispatchOutcome {
  channel: string;
  ok: boolean;
  error?: string;
}

export interface AlertDispatcher {
  /** dispatch sends to every channel of the notification's tenant; resolves to one outcome each (none: no channel). */
  dispatch(notification: AlertNotification): Promise<DispatchOutcome[]>;
}

/** notifierDispatcher sends to each given notifier once, with a timeout per attempt. */
export function notifierDispatcher(notifiers: ReadonlyArray<{ name: string; notifier: Notifier }>, timeoutMs = 10_000): AlertDispatcher {
  return {
    async dispatch(notification) {
      return Promise.all(
        notifiers.map(async ({ name, notifier }) => {
          try {
            await notifier.notify(notification, AbortSignal.timeout(timeoutMs));
            return { channel: name, ok: true };
          } catch (error) {
            return { channel: name, ok: false, error: (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '' };
          }
        }),
      );
    },
  };
}
