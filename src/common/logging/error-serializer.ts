import { DriverException } from '@mikro-orm/core';
import { stdSerializers } from 'pino';

/** Fields of a PostgreSQL error that name things (identifiers), never values. */
const IDENTIFIER_FIELDS = ['code', 'constraint', 'table', 'column', 'schema', 'routine'] as const;

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * SQLSTATE classes whose message PostgreSQL words with identifiers only:
 * connection (08), integrity (23: the values are in `detail`, dropped),
 * transaction state (25, 40), syntax or access (42), resources (53, 54),
 * object state (55), operator intervention (57, e.g. statement timeout).
 * Data exceptions (22) quote the offending value ("invalid input syntax for
 * type uuid: …"), and a syntax error (42601) quotes a token that can be an
 * inlined literal: their text is withheld, the code kept.
 */
const WORDED_BY_IDENTIFIERS = new Set(['08', '23', '25', '40', '42', '53', '54', '55', '57']);

type DatabaseError = Error & Partial<Record<(typeof IDENTIFIER_FIELDS)[number], unknown>>;

/**
 * MikroORM's DriverException (and knex below it) prefixes the message with
 * the statement, its bound values inlined, and appends `detail` ("Key
 * (username)=(…)", "Failing row contains (…)"); node-postgres' own error
 * carries `detail` too.
 */
function isDatabaseError(err: Error): err is DatabaseError {
  const fields = err as Error & { severity?: unknown; code?: unknown; sql?: unknown };
  return (
    err instanceof DriverException ||
    typeof fields.sql === 'string' ||
    (typeof fields.severity === 'string' &&
      typeof fields.code === 'string' &&
      SQLSTATE.test(fields.code))
  );
}

/** The database's own reason, when it cannot carry a value; null when it is withheld. */
function safeReason(err: DatabaseError): string | null {
  const code = typeof err.code === 'string' ? err.code : '';
  if (SQLSTATE.test(code) && (!WORDED_BY_IDENTIFIERS.has(code.slice(0, 2)) || code === '42601')) {
    return null;
  }
  const { detail, hint } = err as DatabaseError & { detail?: unknown; hint?: unknown };
  // knex rewrites the message as "<statement, values inlined> - <reason>", and
  // MikroORM appends "\n - detail: …" and "\n - hint: …": cut the tail, then the head.
  let text = err.message;
  for (const [label, value] of [
    ['hint', hint],
    ['detail', detail],
  ] as const) {
    const suffix = `\n - ${label}: ${String(value)}`;
    if (typeof value === 'string' && text.endsWith(suffix)) text = text.slice(0, -suffix.length);
  }
  const cut = text.lastIndexOf(' - ');
  const reason = cut < 0 ? text : text.slice(cut + 3);
  // Any other shape than the one above: say nothing rather than guess.
  return /\n|^(detail|hint): /.test(reason) ? null : reason;
}

/** Stack frames only: the first line of a database error's stack repeats its message. */
function framesOf(err: Error): string {
  const stack = err.stack ?? '';
  const header = `${err.name}: ${err.message}`;
  return stack.startsWith(header) ? stack.slice(header.length) : '';
}

/** What may be logged of a database error: its kind, code, the identifiers involved, the frames. */
function databaseStandIn(err: DatabaseError): Error {
  const reason = safeReason(err);
  const code = typeof err.code === 'string' ? ` ${err.code}` : '';
  const message = `database error${code}: ${reason ?? 'the text is withheld as it can quote values'}`;
  const standIn = new Error(message);
  standIn.name = err.name;
  standIn.stack = `${err.name}: ${message}${framesOf(err)}`;
  for (const field of IDENTIFIER_FIELDS) {
    if (typeof err[field] === 'string') Object.assign(standIn, { [field]: err[field] });
  }
  return standIn;
}

const MAX_DEPTH = 8;

/**
 * The error with every database error in it (itself, its cause chain, error
 * properties) replaced by a stand-in that holds no bound value. The original
 * is never modified: it may still be handled after being logged.
 */
function withoutBoundValues(err: Error, depth = 0): Error {
  if (isDatabaseError(err)) return databaseStandIn(err);
  if (depth >= MAX_DEPTH) return err;
  const scrub = (value: unknown): unknown =>
    value instanceof Error ? withoutBoundValues(value, depth + 1) : value;
  const replaced: [string, unknown][] = [];
  for (const key of new Set([...Object.keys(err), 'cause'])) {
    const value: unknown = Reflect.get(err, key);
    const scrubbed = Array.isArray(value) ? value.map(scrub) : scrub(value);
    const changed = Array.isArray(value)
      ? (scrubbed as unknown[]).some((item, i) => item !== value[i])
      : scrubbed !== value;
    if (changed) replaced.push([key, scrubbed]);
  }
  if (replaced.length === 0) return err;
  const copy = Object.create(
    Object.getPrototypeOf(err) as object,
    Object.getOwnPropertyDescriptors(err),
  ) as Error;
  for (const [key, value] of replaced) Reflect.set(copy, key, value);
  return copy;
}

/** pino-http hands its serializer pino's own serialization, the original error kept under `raw`. */
function originalError(value: unknown): Error | null {
  if (value instanceof Error) return value;
  const raw = typeof value === 'object' && value !== null ? (value as { raw?: unknown }).raw : null;
  return raw instanceof Error ? raw : null;
}

/** pino's error serializer, minus the bound values and row contents database errors carry. */
export function serializeError(value: unknown): unknown {
  const err = originalError(value);
  if (!err) return value;
  const serialized = stdSerializers.err(withoutBoundValues(err)) as unknown as Record<
    string,
    unknown
  >;
  serialized.type = err.constructor.name;
  return serialized;
}
