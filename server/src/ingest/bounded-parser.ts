/**
 * boundedSocketIoParser is socket.io's own parser with a decoder that refuses, before JSON.parse, a
 * packet nested deeper than MAX_WIRE_NESTING. Parsing is where a hostile message costs memory: a
 * 900 KB frame of 450,000 nested arrays becomes some 15 MB of heap inside JSON.parse, before any
 * schema can look at it (issue 16). The scan is one pass over characters the parser would read
 * anyway. A refused packet closes that connection, as socket.io does for any malformed packet.
 *
 * No algwatch client sends binary attachments, so those are refused too: they are another way to
 * make the server buffer data for a packet (up to the parser's maxAttachments) that no schema sees.
 */
import { Decoder, Encoder } from 'socket.io-parser';

/**
 * The deepest an algwatch message nests: a results batch, its results, a result, its detail (at most
 * DETAIL_BOUNDS.maxDepth = 6 levels) and the packet's own argument array stay under 12.
 */
export const MAX_WIRE_NESTING = 16;

/**
 * jsonNestingExceeds tells whether JSON text opens more than `max` arrays/objects at once. Strings
 * are skipped with indexOf, not walked character by character: most of an agent's message is string
 * content, and this scan runs on every packet (bench ingest-bounds).
 */
export function jsonNestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = closingQuote(text, i);
      if (i === -1) return false; // unterminated: JSON.parse refuses it anyway
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** closingQuote is the index of the quote that ends the string opened at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  for (let end = text.indexOf('"', open + 1); end !== -1; end = text.indexOf('"', end + 1)) {
    // Escaped when preceded by an odd number of backslashes.
    let backslashes = 0;
    for (let k = end - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return end;
  }
  return -1;
}

class BoundedDecoder extends Decoder {
  override add(packet: unknown): void {
    if (typeof packet !== 'string') throw new Error('binary socket.io packets are not accepted');
    if (jsonNestingExceeds(packet, MAX_WIRE_NESTING)) throw new Error(`socket.io packet nested deeper than ${MAX_WIRE_NESTING} levels`);
    super.add(packet);
  }
}

export const boundedSocketIoParser: { Encoder: typeof Encoder; Decoder: typeof Decoder } = { Encoder, Decoder: BoundedDecoder };
