/**
 * The server's config file (`--config FILE`, or ALGWATCH_CONFIG): YAML or JSON (a JSON document is
 * valid YAML, so one parser reads both), one key per flag, named as the flag without its dashes:
 *
 *   bind: 203.0.113.10
 *   http-port: 8080
 *   influx-url: http://127.0.0.1:8086/algwatch
 *   debug: false
 *
 * This file only reads: it turns the document into the same text values a flag would give, and
 * leaves every judgement of a value to the one schema in config.ts. It reports every problem it
 * sees at once, one line each, and never quotes a value (the file holds secrets).
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';

export interface ConfigFileSetting {
  /** The flag's name, which is the key in the file. */
  flag: string;
  type: 'string' | 'boolean';
}

export interface ConfigFileValues {
  /** flag name -> value, as the command line would have given it. */
  values: Record<string, string | boolean>;
  /** One line each: unreadable file, YAML syntax, unknown key, a list where a value belongs... */
  problems: string[];
}

/**
 * readConfigFile reads `path` and returns the settings it holds and every problem found. It never
 * throws for a bad file: an unreadable file is one problem like any other.
 */
export function readConfigFile(path: string, settings: readonly ConfigFileSetting[]): ConfigFileValues {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { values: {}, problems: [`--config ${path}: cannot read it (${code === 'ENOENT' ? 'no such file' : code ?? 'error'})`] };
  }
  // prettyErrors off: the pretty form quotes the offending line, which may hold a password.
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    return { values: {}, problems: document.errors.map((error) => `${path} line ${lineOf(text, error.pos[0])}: ${error.message.split('\n')[0]}`) };
  }
  const content: unknown = document.toJS();
  if (content === null || content === undefined) return { values: {}, problems: [] }; // an empty file sets nothing
  if (typeof content !== 'object' || Array.isArray(content)) {
    return { values: {}, problems: [`${path}: must be a mapping of settings (key: value), e.g. "http-port: 8080"`] };
  }
  const byFlag = new Map(settings.map((setting) => [setting.flag, setting]));
  const values: Record<string, string | boolean> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(content)) {
    const setting = byFlag.get(key);
    if (!setting) {
      const hint = byFlag.has(kebab(key)) ? ` (did you mean ${kebab(key)}?)` : '';
      problems.push(`${path}: unknown setting ${key}${hint}`);
    } else if (setting.type === 'boolean') {
      if (typeof value === 'boolean') values[key] = value;
      else problems.push(`${path}: ${key} must be true or false`);
    } else if (typeof value === 'string' || typeof value === 'number') {
      values[key] = String(value);
    } else if (value === null) {
      problems.push(`${path}: ${key} has no value (remove the line to use the default)`);
    } else {
      problems.push(`${path}: ${key} must be a single value, not ${Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : `a ${typeof value}`}`);
    }
  }
  return { values, problems };
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

/** kebab turns httpPort or http_port into http-port, for the hint on a misnamed key. */
function kebab(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();
}
