import { json, type RequestHandler } from 'express';
import { RequestBodyError } from '../errors/request-body-error';
import { jsonShapeProblem } from './json-shape';

export const BODY_LIMIT = '256kb';

/**
 * express.json with the shape of the body checked on its raw bytes before
 * JSON.parse (body-parser calls `verify` first). `verify` sees the bytes
 * after Content-Encoding is undone, so a compressed body is checked too,
 * and the size limit applies to the decompressed bytes.
 */
export function jsonBodyParser(): RequestHandler {
  return json({
    limit: BODY_LIMIT,
    verify: (_req, _res, body, encoding) => {
      // JSON exchanged between systems is UTF-8 (RFC 8259), and the byte scan relies on it.
      if (encoding !== 'utf-8') throw new RequestBodyError(415, 'Request body must be UTF-8');
      const problem = jsonShapeProblem(body);
      if (problem) throw new RequestBodyError(400, problem);
    },
  });
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
