export const MAX_JSON_DEPTH = 32;
export const MAX_JSON_ENTRIES = 1000;

export const NOT_AN_OBJECT = 'Request body must be a JSON object';

const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** First bytes of a JSON value that is valid but not an object: `[`, `"`, `-`, digits, true, false, null. */
const NON_OBJECT_STARTS = new Set([...'["-0123456789tfn'].map((c) => c.charCodeAt(0)));

function isJsonWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * One linear pass over the raw UTF-8 bytes of a body, before anything is
 * parsed: an object at the top, at most MAX_JSON_DEPTH levels of nesting and
 * MAX_JSON_ENTRIES entries per object or array. Everything after the parser
 * (class-transformer, class-validator, our own walks) recurses, so a few
 * thousand levels overflow the stack and a hundred thousand block the event
 * loop for half a second. In UTF-8 the bytes of a multi-byte character are
 * all >= 0x80, so brackets, quotes and backslashes are never misread.
 *
 * Returns what is wrong, or null; malformed JSON is left to the parser.
 */
export function jsonShapeProblem(bytes: Uint8Array): string | null {
  let start = 0;
  while (start < bytes.length && isJsonWhitespace(bytes[start])) start += 1;
  if (start === bytes.length) return null;
  if (NON_OBJECT_STARTS.has(bytes[start])) return NOT_AN_OBJECT;

  // Separators seen at each open level: entries = separators + 1.
  const separators = new Uint32Array(MAX_JSON_DEPTH + 1);
  let depth = 0;
  let inString = false;
  for (let i = start; i < bytes.length; i += 1) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i += 1;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    switch (byte) {
      case QUOTE:
        inString = true;
        break;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        depth += 1;
        if (depth > MAX_JSON_DEPTH) {
          return `Request body is nested too deeply (at most ${MAX_JSON_DEPTH} levels)`;
        }
        separators[depth] = 0;
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        if (depth > 0) depth -= 1;
        break;
      case COMMA:
        if (depth > 0 && ++separators[depth] >= MAX_JSON_ENTRIES) {
          return `Request body has more than ${MAX_JSON_ENTRIES} entries in one object or array`;
        }
        break;
    }
  }
  return null;
}
