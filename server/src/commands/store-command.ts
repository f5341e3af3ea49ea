/**
 * runStoreCommand is the shared frame of the alerting commands (`alerts`, `silence`, `rule`): the
 * same --data-dir / --database-url handling as `site`, and the same exit codes: 0 done; 1 refused
 * (unknown site or id), message on stderr; 2 bad usage or the database could not be opened.
 */
import { parseArgs } from 'node:util';
import { flagError } from '@algwatch/protocol/cli-flags';
import { openRelationalStore } from '../relational/open.js';
import { RelationalError } from '../relational/relational-error.js';
import type { RelationalStore } from '../relational/relational-store.js';
import type { SiteCommandOptions } from './site.js';

/** UsageError: the command line is wrong (exit 2). RefusedError: the request cannot be done (exit 1). */
export class UsageError extends Error {}
export class RefusedError extends Error {}

export type CommandOptions = SiteCommandOptions;

export interface ParsedCommand {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

/** parseCommand parses flags strictly (plus --data-dir and --database-url); throws UsageError with one line. */
export function parseCommand(argv: string[], flags: Record<string, 'string' | 'boolean'>): ParsedCommand {
  const options: Record<string, { type: 'string' | 'boolean' }> = { 'data-dir': { type: 'string' }, 'database-url': { type: 'string' } };
  for (const [name, type] of Object.entries(flags)) options[name] = { type };
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { values: values as ParsedCommand['values'], positionals };
  } catch (err) {
    throw new UsageError(flagError(err));
  }
}

/** runStoreCommand opens the relational store, runs `body` and maps its errors to exit codes. */
export async function runStoreCommand(
  name: string,
  usage: string,
  argv: string[],
  options: CommandOptions,
  parse: (argv: string[]) => ParsedCommand,
  body: (store: RelationalStore, parsed: ParsedCommand, out: (line: string) => void) => Promise<void>,
): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  let parsed: ParsedCommand;
  try {
    parsed = parse(argv);
  } catch (err) {
    stderr.write(`algwatch-server ${name}: ${oneLine(err)}; ${usage}\n`);
    return 2;
  }
  const dataDir = (parsed.values['data-dir'] as string | undefined) ?? options.dataDir;
  const databaseUrl = (parsed.values['database-url'] as string | undefined) ?? options.databaseUrl;
  let store: RelationalStore;
  try {
    store = await openRelationalStore({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
  } catch (err) {
    stderr.write(`algwatch-server ${name}: ${oneLine(err)}\n`);
    return 2;
  }
  try {
    await body(store, parsed, (line) => stdout.write(`${line}\n`));
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`algwatch-server ${name}: ${err.message}; ${usage}\n`);
      return 2;
    }
    stderr.write(`algwatch-server ${name}: ${oneLine(err)}\n`);
    return err instanceof RelationalError || err instanceof RefusedError ? 1 : 2;
  } finally {
    await store.close();
  }
}

/** formatTable aligns rows under a header, two spaces between columns. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
