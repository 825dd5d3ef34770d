/** A value that must never leave the places meant for it; bytes for key material. */
export interface Secret {
  name: string;
  value: string | Buffer;
}

/** A shape of secret that no haystack may hold, whatever its value (a Proxmox ticket, a PEM). */
export interface SecretPattern {
  name: string;
  pattern: RegExp;
}

/**
 * A text to search. `allowed` names the secrets this one text may carry, and
 * how many times, in clear only: the single answers that hand a secret to its
 * owner (a login its tokens, a token creation its token).
 */
export interface Haystack {
  where: string;
  text: string;
  allowed?: ReadonlyMap<string, number>;
}

export interface Hit {
  where: string;
  line: number;
  secret: string;
  form: string;
  count: number;
  /** The first characters of what was found, enough to recognise it, never the secret. */
  masked: string;
}

interface Needle {
  secret: string;
  form: string;
  text: string;
}

/** Shorter needles could match by chance; every secret of a scenario is far longer. */
const MIN_NEEDLE = 12;

/**
 * The base64 characters that depend on `bytes` alone when they sit `offset`
 * bytes into a longer encoded buffer: a secret leaked inside a bigger blob
 * (a Basic header, an encoded key file) is found at any of the three alignments.
 */
function base64Core(bytes: Buffer, offset: number, encoding: 'base64' | 'base64url'): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString(encoding);
  const first = Math.ceil((8 * offset) / 6);
  const last = Math.floor((8 * (offset + bytes.length) - 6) / 6);
  return encoded.slice(first, last + 1);
}

/** Every form a cheap transform could give the secret on its way into a log, a column or a body. */
export function formsOf(secret: Secret): Needle[] {
  const bytes = typeof secret.value === 'string' ? Buffer.from(secret.value) : secret.value;
  const forms: [string, string][] = [];
  if (typeof secret.value === 'string') {
    forms.push(['clear', secret.value]);
    forms.push(['json-escaped', JSON.stringify(secret.value).slice(1, -1)]);
    forms.push(['url-encoded', encodeURIComponent(secret.value)]);
  }
  forms.push(['hex', bytes.toString('hex')], ['HEX', bytes.toString('hex').toUpperCase()]);
  for (const offset of [0, 1, 2]) {
    forms.push([`base64@${offset}`, base64Core(bytes, offset, 'base64')]);
    forms.push([`base64url@${offset}`, base64Core(bytes, offset, 'base64url')]);
  }
  const seen = new Set<string>();
  const needles: Needle[] = [];
  for (const [form, text] of forms) {
    if (text.length < MIN_NEEDLE || seen.has(text)) continue;
    seen.add(text);
    needles.push({ secret: secret.name, form, text });
  }
  return needles;
}

function occurrences(text: string, needle: string): number[] {
  const at: number[] = [];
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) at.push(i);
  return at;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function mask(found: string): string {
  return `${found.slice(0, 4)}… (${found.length} chars)`;
}

/** Every place a secret (in any of its forms) or a secret pattern shows up beyond what is allowed. */
export function scan(
  haystacks: readonly Haystack[],
  secrets: readonly Secret[],
  patterns: readonly SecretPattern[] = [],
): Hit[] {
  const needles = secrets.flatMap(formsOf);
  const hits: Hit[] = [];
  for (const { where, text, allowed } of haystacks) {
    for (const needle of needles) {
      const at = occurrences(text, needle.text);
      const permitted = needle.form === 'clear' ? (allowed?.get(needle.secret) ?? 0) : 0;
      if (at.length > permitted) {
        hits.push({
          where,
          line: lineOf(text, at[0]),
          secret: needle.secret,
          form: needle.form,
          count: at.length,
          masked: mask(needle.text),
        });
      }
    }
    for (const { name, pattern } of patterns) {
      const found = [...text.matchAll(new RegExp(pattern.source, `${pattern.flags}g`))];
      if (found.length > 0) {
        hits.push({
          where,
          line: lineOf(text, found[0].index),
          secret: name,
          form: 'pattern',
          count: found.length,
          masked: mask(found[0][0]),
        });
      }
    }
  }
  return hits;
}

/** One line per hit, readable in a failure message without revealing any secret. */
export function describeHits(hits: readonly Hit[]): string[] {
  return hits.map(
    (h) => `${h.secret} (${h.form}, ${h.count}×) in ${h.where}, line ${h.line}: ${h.masked}`,
  );
}
