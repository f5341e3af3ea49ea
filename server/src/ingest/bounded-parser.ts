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

/** jsonNestingExceeds tells whether JSON text opens more than `max` arrays/objects at once. */
export function jsonNestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

class BoundedDecoder extends Decoder {
  override add(packet: unknown): void {
    if (typeof packet !== 'string') throw new Error('binary socket.io packets are not accepted');
    if (jsonNestingExceeds(packet, MAX_WIRE_NESTING)) throw new Error(`socket.io packet nested deeper than ${MAX_WIRE_NESTING} levels`);
    super.add(packet);
  }
}

export const boundedSocketIoParser: { Encoder: typeof Encoder; Decoder: typeof Decoder } = { Encoder, Decoder: BoundedDecoder };
