/**
 * Small helpers for validating a parsed YAML document by hand. Every
 * problem is recorded with the path of the field it concerns
 * (`compose.services.db.image`, `env[2].name`), so a catalog author can
 * find it without reading the loader.
 */

export type Fields = Record<string, unknown>;

export function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function fieldPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

export interface StringRule {
  min?: number;
  max: number;
  pattern?: RegExp;
  /** Says what the pattern means, for the message. */
  hint?: string;
}

/** Control characters other than tab and newline have no place in catalog text. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a) || code === 0x7f) return true;
  }
  return false;
}

export class Problems {
  readonly messages: string[] = [];

  add(path: string, message: string): void {
    this.messages.push(path === '' ? message : `${path}: ${message}`);
  }

  get empty(): boolean {
    return this.messages.length === 0;
  }

  /** Reports unknown keys and missing required ones; a null value counts as missing. */
  keys(
    fields: Fields,
    path: string,
    required: readonly string[],
    optional: readonly string[] = [],
  ): void {
    for (const key of Object.keys(fields)) {
      if (!required.includes(key) && !optional.includes(key)) {
        this.add(fieldPath(path, key), 'is not a known field');
      }
    }
    for (const key of required) {
      if (fields[key] === undefined || fields[key] === null)
        this.add(fieldPath(path, key), 'is required');
    }
  }

  string(value: unknown, path: string, rule: StringRule): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.add(path, 'must be a string');
      return undefined;
    }
    const min = rule.min ?? 1;
    if (value.length < min || value.length > rule.max) {
      this.add(path, `must be ${min}..${rule.max} characters long`);
      return undefined;
    }
    if (hasControlCharacter(value)) {
      this.add(path, 'must not contain control characters');
      return undefined;
    }
    if (rule.pattern && !rule.pattern.test(value)) {
      this.add(path, `must be ${rule.hint ?? `of the form ${rule.pattern.source}`}`);
      return undefined;
    }
    return value;
  }

  integer(value: unknown, path: string, min: number, max: number): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.add(path, `must be an integer from ${min} to ${max}`);
      return undefined;
    }
    return value;
  }

  boolean(value: unknown, path: string, fallback: boolean): boolean {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') {
      this.add(path, 'must be true or false');
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.add(path, `must be one of ${allowed.join(', ')}`);
      return undefined;
    }
    return value as T;
  }

  list<T>(value: unknown, path: string, max: number): T[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) {
      this.add(path, 'must be a list');
      return undefined;
    }
    if (value.length > max) {
      this.add(path, `must have at most ${max} entries`);
      return undefined;
    }
    return value as T[];
  }

  record(value: unknown, path: string): Fields | undefined {
    if (value === undefined || value === null) return undefined;
    if (!isRecord(value)) {
      this.add(path, 'must be a mapping');
      return undefined;
    }
    return value;
  }

  /** An absolute https URL without credentials (icons and websites are shown to users). */
  httpsUrl(value: unknown, path: string): string | undefined {
    const text = this.string(value, path, { max: 500 });
    if (text === undefined) return undefined;
    let url: URL | null = null;
    try {
      url = new URL(text);
    } catch {
      url = null;
    }
    if (!url || url.protocol !== 'https:' || url.username !== '' || url.password !== '') {
      this.add(path, 'must be an https:// URL without credentials');
      return undefined;
    }
    return text;
  }
}
