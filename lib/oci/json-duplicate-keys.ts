/**
 * A scanner for repeated object keys in a JSON text. `JSON.parse` keeps the last value of a repeated key, Go's
 * encoding/json too, while other parsers keep the first or fail: a manifest or config with a repeated key can mean
 * two things to two tools (the reason containerkit refuses it, where its peers do not).
 * @internal
 * @module
 */

/** One step of a path into a JSON document: an object key or an array index. @internal */
export type JsonPathStep = string | number;

interface Frame {
  /** The keys seen so far, or undefined for an array. */
  keys: Set<string> | undefined;
  /** Whether the next string is a key (objects only). */
  expectKey: boolean;
  /** The current key (objects) or index (arrays), for the path. */
  at: JsonPathStep;
}

/** The index of the quote that closes the string whose opening quote is at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  let end = text.indexOf('"', open + 1);
  while (end !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return -1;
}

/**
 * The path of the first key that repeats within one object of `text`, keys compared after unescaping (`"a"` and
 * `"\u0061"` are the same key, as every parser reads them); undefined when there is none. `text` must be valid
 * JSON (run this after `JSON.parse` accepted it). One pass over the text; memory is bounded by the keys of the
 * objects open at once.
 * @internal
 */
export function findDuplicateKey(text: string): JsonPathStep[] | undefined {
  const stack: Frame[] = [];
  const length = text.length;
  for (let i = 0; i < length; i++) {
    // Whitespace, ':' and the characters of numbers and literals fall through: only these matter.
    switch (text.charCodeAt(i)) {
      case 0x7b: // {
        stack.push({ keys: new Set(), expectKey: true, at: '' });
        break;
      case 0x5b: // [
        stack.push({ keys: undefined, expectKey: false, at: 0 });
        break;
      case 0x7d: // }
      case 0x5d: // ]
        stack.pop();
        break;
      case 0x2c: {
        // ,
        const top = stack[stack.length - 1];
        if (top?.keys !== undefined) top.expectKey = true;
        else if (top !== undefined) top.at = (top.at as number) + 1;
        break;
      }
      case 0x22: {
        // "
        const end = closingQuote(text, i);
        if (end === -1) return undefined; // not valid JSON: the caller's parse has refused it already
        const top = stack[stack.length - 1];
        if (top?.keys !== undefined && top.expectKey) {
          const raw = text.slice(i + 1, end);
          const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
          if (top.keys.has(key)) return [...stack.slice(0, -1).map((f) => f.at), key];
          top.keys.add(key);
          top.at = key;
          top.expectKey = false;
        }
        i = end;
        break;
      }
    }
  }
  return undefined;
}
