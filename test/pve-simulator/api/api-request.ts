import type { RawParam } from './schema/parameter-schema';

/** Text of a scalar parameter value (JSON bodies may carry numbers, booleans, even objects). */
export function paramText(value: RawParam): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Validated request parameters (URI parameters included), read the way handlers need them. */
export class Params {
  constructor(private readonly values: Record<string, RawParam>) {}

  has(key: string): boolean {
    const value = this.values[key];
    return value !== undefined && value !== null;
  }

  str(key: string): string | undefined {
    const value = this.values[key];
    if (value === undefined || value === null) return undefined;
    if (Array.isArray(value)) return value.map(paramText).join(',');
    return paramText(value);
  }

  required(key: string): string {
    const value = this.str(key);
    if (value === undefined) throw new Error(`parameter ${key} missing after validation`);
    return value;
  }

  int(key: string): number | undefined {
    const value = this.str(key);
    return value === undefined ? undefined : Number(value);
  }

  bool(key: string): boolean {
    return this.str(key) === '1';
  }

  list(key: string): string[] {
    const value = this.values[key];
    if (value === undefined || value === null) return [];
    return Array.isArray(value) ? value.map(paramText) : [paramText(value)];
  }

  keys(): string[] {
    return Object.keys(this.values).filter((key) => this.has(key));
  }
}

/** Who is calling: `root@pam` with a ticket, `root@pam!proximity` with a token. */
export interface Principal {
  userid: string;
  isToken: boolean;
}

export interface ApiRequest {
  method: string;
  /** The path after /api2/json, uri-unescaped. */
  path: string;
  params: Params;
  principal: Principal;
  /** A fault rule's failTask for the task this request starts, if any. */
  failTask: string | null;
}

/** A handler result that also sets the envelope's `total`. */
export class WithTotal {
  constructor(
    readonly data: unknown,
    readonly total: number,
  ) {}
}
