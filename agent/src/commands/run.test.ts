import { afterEach, describe, expect, it } from 'vitest';
import { runCommand } from './run.js';

/** captureStderr keeps what runCommand writes to stderr, so the lines a technician sees can be checked. */
function captureStderr(): { lines: () => string[]; restore: () => void } {
  const original = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stderr.write;
  return { lines: () => text.split('\n').filter((line) => line !== ''), restore: () => (process.stderr.write = original) };
}

let capture: ReturnType<typeof captureStderr> | null = null;
afterEach(() => {
  capture?.restore();
  capture = null;
});

describe('runCommand', () => {
  it('exits 2 with every configuration problem on its own line, then the usage', async () => {
    delete process.env.ALGWATCH_SERVER;
    delete process.env.ALGWATCH_TOKEN;
    capture = captureStderr();
    const code = await runCommand(['--server', 'not a url', '--verbose']);
    const lines = capture.lines();
    capture.restore();
    expect(code).toBe(2);
    expect(lines.slice(0, 3)).toEqual([
      'algwatch-agent run: unknown flag --verbose',
      'algwatch-agent run: --server must be an http:// or https:// URL, e.g. https://algwatch.example.net',
      'algwatch-agent run: --token (or ALGWATCH_TOKEN, or "token" in the --config file) is required (the token `algwatch-server site add` printed)',
    ]);
    expect(lines[3]).toMatch(/^usage: algwatch-agent run --server URL --token TOKEN/);
  });
});
