import { describe, expect, it } from 'vitest';
import { ipLiteralLookup } from './ip-literal-lookup.js';

describe('ipLiteralLookup', () => {
  it('answers IPv4 and IPv6 literals before returning, with their family', () => {
    const answers: Array<[string, number]> = [];
    ipLiteralLookup('203.0.113.7', 4, (err, address, family) => { expect(err).toBeNull(); answers.push([address, family]); });
    ipLiteralLookup('2001:db8::1', 6, (err, address, family) => { expect(err).toBeNull(); answers.push([address, family]); });
    expect(answers).toEqual([['203.0.113.7', 4], ['2001:db8::1', 6]]);
  });

  it('leaves a name to dns.lookup, which answers later', async () => {
    let answered = false;
    const answer = new Promise<[string, number]>((resolve, reject) =>
      ipLiteralLookup('localhost', 4, (err, address, family) => { answered = true; if (err) reject(err); else resolve([address, family]); }),
    );
    expect(answered).toBe(false);
    expect(await answer).toEqual(['127.0.0.1', 4]);
  });
});
