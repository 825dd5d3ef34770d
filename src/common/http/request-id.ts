import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

type WithId = IncomingMessage & { id?: unknown };

/** Echoes a caller's well-formed request id or makes one; never trusts arbitrary header text. */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const carrier = req as WithId;
  if (typeof carrier.id === 'string') return carrier.id;
  const given = req.headers[REQUEST_ID_HEADER];
  const id = typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
  carrier.id = id;
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

export function requestIdOf(req: IncomingMessage): string {
  const id = (req as WithId).id;
  return typeof id === 'string' ? id : 'unknown';
}
