/**
 * The daemon's log: one event per line on stderr. JSON lines when stderr is not a terminal (journald,
 * Docker and log shippers parse them); a short human line on a terminal. Kept tiny on purpose: the
 * agent stays small, so no logging library.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  debug?: boolean;
  json?: boolean;
  write?: (line: string) => void;
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** createLogger writes lines at info and above (debug too with `debug`), to stderr unless `write` is given. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const json = options.json ?? !process.stderr.isTTY;
  const threshold = LEVEL_ORDER[options.debug ? 'debug' : 'info'];
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (LEVEL_ORDER[level] < threshold) return;
    if (json) {
      write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })}\n`);
    } else {
      const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
      write(`${new Date().toISOString().slice(11, 19)} ${level.toUpperCase().padEnd(5)} ${message}${extra}\n`);
    }
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}

/** LogLine is one captured line of a memoryLogger. */
export interface LogLine {
  level: LogLevel;
  message: string;
  fields?: Record<string, unknown>;
}

/** memoryLogger keeps every line in `lines`: for tests and for callers that report lines themselves. */
export function memoryLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const keep = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(fields ? { level, message, fields } : { level, message });
  };
  return { lines, debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}
