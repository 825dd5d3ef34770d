import { HttpException } from '@nestjs/common';
import {
  ForeignKeyConstraintViolationException,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { SecretDecryptionError } from '../../crypto/keyring';
import { DomainError, FieldError, httpStatusOf } from './domain-error';
import { GENERIC_SERVER_ERROR } from './error-envelope';

export interface HttpError {
  status: number;
  message: string;
  details?: FieldError[];
  retryAfterSeconds?: number;
  /** True when the error is a bug or an outage: log it in full at error level. */
  unexpected: boolean;
}

interface BodyParserError {
  type: string;
  status: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as BodyParserError).type === 'string' &&
    typeof (err as BodyParserError).status === 'number'
  );
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
    // Our own wording, no secret in it: operators must see why, not a bare 500.
    return { status: 500, message: err.message, unexpected: true };
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
  if (isBodyParserError(err) && err.status >= 400 && err.status < 500) {
    if (err.type === 'entity.too.large') {
      return { status: 413, message: 'Request body is too large', unexpected: false };
    }
    if (err.type === 'entity.parse.failed') {
      return { status: 400, message: 'Request body is not valid JSON', unexpected: false };
    }
    return { status: err.status, message: 'Request body could not be read', unexpected: false };
  }
  return { status: 500, message: GENERIC_SERVER_ERROR, unexpected: true };
}
