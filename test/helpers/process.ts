/**
 * Child-process helpers for tests that run real programs: a one-shot `runCommand` that collects
 * output, and `startProcess` for a long-lived peer (a server, an echo script) whose output a test
 * waits on and which is always stopped on teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** CommandResult is how a finished command ended and everything it wrote. */
export interface CommandResult {
  /** Exit code; null when it was killed by a signal (see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunCommandOptions {
  /** Killed with SIGKILL after this long; the result then has signal SIGKILL. Default 60 s. */
  timeoutMs?: number;
  /** Written to stdin, which is then closed. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * runCommand runs a program to completion and resolves with its exit status and output. It never
 * rejects for a non-zero exit (tests assert on exit codes); it rejects only when the program cannot
 * be started at all (ENOENT).
 */
export function runCommand(command: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.env ? { env: options.env } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    child.stdin.on('error', () => {}); // a program that exits without reading stdin is not our failure
    child.stdin.end(options.input ?? '');
  });
}

/** ManagedProcess is a long-lived child whose output is kept for assertions and diagnostics. */
export interface ManagedProcess {
  readonly pid: number | undefined;
  readonly description: string;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has ended (with its code or signal); never rejects. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * waitForOutput resolves with the first stdout line matching `pattern`. It rejects when the
   * process exits first or after `timeoutMs`, with the tail of stderr in the message so the test
   * failure says why the peer did not come up.
   */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** stop sends SIGTERM, then SIGKILL after `graceMs`, and resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartProcessOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** startProcess spawns `command args` with piped output; the caller must `stop()` it. */
export function startProcess(command: string, args: readonly string[], options: StartProcessOptions = {}): ManagedProcess {
  const child: ChildProcess = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  const description = [command, ...args].join(' ');
  let stdout = '';
  let stderr = '';
  let ended = false;
  const lineWaiters = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    for (const wake of lineWaiters) wake();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => {
      stderr += `${err.message}\n`;
      ended = true;
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => {
      ended = true;
      for (const wake of lineWaiters) wake();
      resolve({ code, signal });
    });
  });

  const waitForOutput = (pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = stdout.split('\n').find((candidate) => pattern.test(candidate));
        if (line !== undefined) return finish(() => resolve(line));
        if (ended) return finish(() => reject(new Error(`${description} exited before printing ${pattern}: ${tail(stderr || stdout)}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${description} printed no ${pattern} within ${timeoutMs} ms: ${tail(stderr || stdout)}`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        lineWaiters.delete(check);
        settle();
      };
      lineWaiters.add(check);
      check();
    });

  const stop = async (graceMs = 3_000) => {
    if (ended) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(killer);
  };

  return { pid: child.pid, description, stdout: () => stdout, stderr: () => stderr, exited, waitForOutput, stop };
}

/** tail is the last few lines of a program's output, on one line, for an error message. */
export function tail(output: string, lines = 5): string {
  const kept = output.trim().split('\n').slice(-lines).join(' | ');
  return kept === '' ? '(no output)' : kept;
}
