import { HttpException } from '@nestjs/common';
import {
  ForeignKeyConstraintViolationException,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { SecretDecryptionError } from '../../crypto/keyring';
import { DomainError, FieldError, httpStatusOf } from './domain-error';
import { GENERIC_SERVER_ERROR } from './error-envelope';
import { RequestBodyError } from './request-body-error';

export interface HttpError {
  status: number;
  message: string;
  details?: FieldError[];
  retryAfterSeconds?: number;
  /** True when the error is a bug or an outage: log it in full at error level. */
  unexpected: boolean;
}

function messageOfHttpException(ex: HttpException): string {
  const response = ex.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  return ex.message;
}

/**
 * Maps anything thrown while serving a request to what the client may see.
 * Only texts we wrote ourselves pass through; everything else is generic.
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof DomainError) {
    const status = httpStatusOf(err.code);
    return {
      status,
      message: err.message,
      details: err.details,
      retryAfterSeconds: err.retryAfterSeconds,
      unexpected: false,
    };
  }
  if (err instanceof SecretDecryptionError) {
    // Which key or what failed is for the log (unexpected: logged in full), not the caller.
    return { status: 500, message: 'A stored secret cannot be decrypted', unexpected: true };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    if (status >= 500) return { status, message: GENERIC_SERVER_ERROR, unexpected: true };
    return { status, message: messageOfHttpException(err), unexpected: false };
  }
  if (err instanceof UniqueConstraintViolationException) {
    return { status: 409, message: 'Conflicts with an existing resource', unexpected: false };
  }
  if (err instanceof ForeignKeyConstraintViolationException) {
    return { status: 409, message: 'Still referenced by other resources', unexpected: false };
  }
  if (err instanceof RequestBodyError) {
    return { status: err.status, message: err.message, unexpected: false };
  }
  return { status: 500, message: GENERIC_SERVER_ERROR, unexpected: true };
}
