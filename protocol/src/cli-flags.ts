/** flagError turns node:util parseArgs errors into the one line a technician needs (agent and server CLIs). */
export function flagError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown flag ${unknown[1]}`;
  const missing = /Option '([^']+)' argument missing/.exec(message);
  if (missing) return `${missing[1]!.split(',')[0]!.trim()} needs a value`;
  const positional = /Unexpected argument '([^']+)'/.exec(message);
  if (positional) return `unexpected argument ${positional[1]}`;
  return message.split('\n')[0] ?? message;
}
