import { describe, expect, it } from 'vitest';
import { boundedSocketIoParser, jsonNestingExceeds, MAX_WIRE_NESTING } from './bounded-parser.js';

describe('jsonNestingExceeds', () => {
  it('counts arrays and objects that are open at once', () => {
    expect(jsonNestingExceeds('[{"a":[1]}]', 3)).toBe(false);
    expect(jsonNestingExceeds('[{"a":[[1]]}]', 3)).toBe(true);
    expect(jsonNestingExceeds('[[],[],[],[]]', 2)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonNestingExceeds('["[[[[", "\\"[[[[", {"k\\\\":"{{{{"}]', 2)).toBe(false);
  });
});

describe('boundedSocketIoParser', () => {
  it('decodes an ordinary event and refuses one nested deeper than the bound', () => {
    const decoder = new boundedSocketIoParser.Decoder();
    const decoded: unknown[] = [];
    decoder.on('decoded', (packet: unknown) => decoded.push(packet));
    decoder.add('2/agent,1["results",{"results":[{"detail":{"a":[1]}}]}]');
    expect(decoded).toHaveLength(1);
    const deep = `2/agent,2["results",${'['.repeat(MAX_WIRE_NESTING)}${']'.repeat(MAX_WIRE_NESTING)}]`;
    expect(() => decoder.add(deep)).toThrow(`socket.io packet nested deeper than ${MAX_WIRE_NESTING} levels`);
    expect(() => decoder.add(Buffer.from('x'))).toThrow('binary socket.io packets are not accepted');
    expect(decoded).toHaveLength(1);
  });
});
