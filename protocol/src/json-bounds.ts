/**
 * jsonBoundsProblem bounds a JSON value that came from the wire before anything keeps it. A value
 * socket.io has already parsed can still be a 450,000-level nested array in 900 KB (issue 16: forty
 * of them, kept by the status board, took the server from 140 MB to 1.1 GB). The walk is iterative
 * and stops at the first bound crossed, so a hostile value costs at most `maxNodes` steps and never
 * the call stack.
 */

export interface JsonBounds {
  /** Nesting depth: a scalar at the top is depth 0, `[1]` is depth 1. */
  maxDepth: number;
  /** Values counted over the whole tree: objects, arrays, scalars. */
  maxNodes: number;
  /** Characters of any one string or key. */
  maxStringLength: number;
  /** A rough size: characters of all strings and keys plus 8 per other value. */
  maxBytes: number;
}

/**
 * DETAIL_BOUNDS bound a probe result's `detail`. The largest real one, a sip-alg report of an ALG
 * rewriting every header of an INVITE both ways, is about 40 rewrites of two header lines (~8 KB,
 * depth 3); these leave room for that eight times over and nothing like an attack.
 */
export const DETAIL_BOUNDS: JsonBounds = { maxDepth: 6, maxNodes: 2_000, maxStringLength: 2_048, maxBytes: 64 * 1024 };

/**
 * jsonBoundsProblem returns null when `value` is plain JSON data (null, booleans, finite numbers,
 * strings, arrays and plain objects) within `bounds`, else one line saying which bound it crossed.
 */
export function jsonBoundsProblem(value: unknown, bounds: JsonBounds = DETAIL_BOUNDS): string | null {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  let nodes = 0;
  let bytes = 0;
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop() as { value: unknown; depth: number };
    if (++nodes > bounds.maxNodes) return `more than ${bounds.maxNodes} values`;
    if (depth > bounds.maxDepth) return `nested deeper than ${bounds.maxDepth} levels`;
    if (current === null || typeof current === 'boolean') {
      bytes += 8;
    } else if (typeof current === 'number') {
      if (!Number.isFinite(current)) return 'a number that is not finite';
      bytes += 8;
    } else if (typeof current === 'string') {
      if (current.length > bounds.maxStringLength) return `a string longer than ${bounds.maxStringLength} characters`;
      bytes += current.length;
    } else if (Array.isArray(current)) {
      bytes += 8;
      for (const item of current) stack.push({ value: item, depth: depth + 1 });
    } else if (typeof current === 'object' && isPlainObject(current)) {
      bytes += 8;
      for (const key of Object.keys(current)) {
        if (key.length > bounds.maxStringLength) return `a key longer than ${bounds.maxStringLength} characters`;
        bytes += key.length;
        stack.push({ value: (current as Record<string, unknown>)[key], depth: depth + 1 });
      }
    } else {
      return `a value of type ${typeof current}, not JSON data`;
    }
    if (bytes > bounds.maxBytes) return `larger than ${bounds.maxBytes} bytes`;
    // The stack holds at most what was counted, so maxNodes also bounds the memory of the walk.
    if (stack.length > bounds.maxNodes) return `more than ${bounds.maxNodes} values`;
  }
  return null;
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
