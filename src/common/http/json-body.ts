import { json, type RequestHandler } from 'express';
import { RequestBodyError } from '../errors/request-body-error';

export const BODY_LIMIT = '256kb';

/** express.json with our limit; its failures are mapped by requestBodyErrorOf. */
export function jsonBodyParser(): RequestHandler {
  return json({ limit: BODY_LIMIT });
}

/** What body-parser and our `verify` raise, as the answer the client sees. */
export function requestBodyErrorOf(err: unknown): RequestBodyError {
  if (err instanceof RequestBodyError) return err;
  switch ((err as { type?: unknown }).type) {
    case 'entity.too.large':
      return new RequestBodyError(413, 'Request body is too large');
    case 'entity.parse.failed':
      return new RequestBodyError(400, 'Request body is not valid JSON');
    case 'encoding.unsupported':
      return new RequestBodyError(415, 'Content-Encoding must be gzip, deflate, br or identity');
    case 'charset.unsupported':
      return new RequestBodyError(415, 'Request body must be UTF-8');
  }
  // zlib errors reach us without a type, only with body-parser's status.
  if (/^Z_/.test(String((err as { code?: unknown }).code))) {
    return new RequestBodyError(400, 'Request body could not be decompressed');
  }
  return new RequestBodyError(400, 'Request body could not be read');
}
