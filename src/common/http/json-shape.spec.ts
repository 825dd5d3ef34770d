import fc from 'fast-check';
import { jsonShapeProblem, MAX_JSON_DEPTH, MAX_JSON_ENTRIES, NOT_AN_OBJECT } from './json-shape';

const scan = (text: string) => jsonShapeProblem(Buffer.from(text, 'utf8'));
const TOO_DEEP = `Request body is nested too deeply (at most ${MAX_JSON_DEPTH} levels)`;
const TOO_MANY = `Request body has more than ${MAX_JSON_ENTRIES} entries in one object or array`;

/** The same limits, computed the slow way on the parsed value. */
function expected(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return NOT_AN_OBJECT;
  let deepest = 0;
  let widest = 0;
  const visit = (node: unknown, depth: number): void => {
    if (typeof node !== 'object' || node === null) return;
    const children = Object.values(node);
    deepest = Math.max(deepest, depth);
    widest = Math.max(widest, children.length);
    for (const child of children) visit(child, depth + 1);
  };
  visit(value, 1);
  if (deepest > MAX_JSON_DEPTH) return TOO_DEEP;
  if (widest > MAX_JSON_ENTRIES) return TOO_MANY;
  return null;
}

describe('jsonShapeProblem', () => {
  it('accepts the limits and refuses one more', () => {
    const nest = (depth: number) => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    expect(scan(nest(MAX_JSON_DEPTH))).toBeNull();
    expect(scan(nest(MAX_JSON_DEPTH + 1))).toBe(TOO_DEEP);
    const entries = (n: number) => `{"a":[${Array(n).fill('1').join(',')}]}`;
    expect(scan(entries(MAX_JSON_ENTRIES))).toBeNull();
    expect(scan(entries(MAX_JSON_ENTRIES + 1))).toBe(TOO_MANY);
  });

  it('reads brackets, commas and escaped quotes inside strings as text', () => {
    const text = JSON.stringify({ a: `"\\${'[{,'.repeat(5000)}`, b: 'é€😀[' });
    expect(scan(text)).toBeNull();
  });

  it('wants an object at the top and leaves an empty or malformed body to the parser', () => {
    for (const text of ['null', ' []', '"x"', '-1', '2', 'true', 'false']) {
      expect(scan(text)).toBe(NOT_AN_OBJECT);
    }
    expect(scan('')).toBeNull();
    expect(scan('  \n')).toBeNull();
    expect(scan('{"a":')).toBeNull();
    expect(scan('<xml/>')).toBeNull();
  });

  it('agrees with the parsed value on any JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: MAX_JSON_DEPTH + 3 }), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        expect(scan(text)).toBe(expected(value));
      }),
      { numRuns: 500 },
    );
  });
});
