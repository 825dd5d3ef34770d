import { DomainError } from '../common/errors/domain-error';

/** A position in a log, newest first: the last line a page showed. */
export interface LogCursor {
  at: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Opaque to the caller: it only hands back what nextCursor gave it. */
export function encodeCursor(cursor: LogCursor): string {
  return Buffer.from(`${cursor.at.toISOString()}|${cursor.id}`).toString('base64url');
}

/** A 400 on `before` for anything that is not a cursor we wrote. */
export function decodeCursor(text: string): LogCursor {
  const [iso, id, ...rest] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  const at = new Date(iso);
  if (
    rest.length > 0 ||
    id === undefined ||
    !UUID.test(id) ||
    Number.isNaN(at.getTime()) ||
    at.toISOString() !== iso
  ) {
    throw DomainError.invalid('before', 'before must be a nextCursor of this log');
  }
  return { at, id };
}
