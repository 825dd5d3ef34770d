import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { requestIdOf } from '../http/request-id';
import { errorEnvelope } from './error-envelope';
import { toHttpError } from './to-http-error';

/** Writes the error envelope of docs/api.md; logs unexpected errors in full, with the request id. */
export function sendError(
  err: unknown,
  req: Request,
  res: Response,
  logger: Pick<PinoLogger, 'error' | 'warn'>,
): void {
  const mapped = toHttpError(err);
  const requestId = requestIdOf(req);
  if (mapped.unexpected) {
    logger.error({ err, requestId }, 'request failed with an unexpected error');
  }
  if (res.headersSent) return;
  if (mapped.retryAfterSeconds !== undefined) {
    res.setHeader('Retry-After', String(Math.max(1, Math.ceil(mapped.retryAfterSeconds))));
  }
  res
    .status(mapped.status)
    .json(errorEnvelope(mapped.status, mapped.message, requestId, mapped.details));
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: PinoLogger) {
    logger.setContext(HttpErrorFilter.name);
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    sendError(exception, ctx.getRequest<Request>(), ctx.getResponse<Response>(), this.logger);
  }
}
