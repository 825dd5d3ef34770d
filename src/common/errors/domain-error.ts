export enum ErrorCode {
  InvalidInput = 'INVALID_INPUT',
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  RateLimited = 'RATE_LIMITED',
  Unavailable = 'UNAVAILABLE',
  UpstreamFailed = 'UPSTREAM_FAILED',
}

export interface FieldError {
  field: string;
  message: string;
}

/**
 * An expected failure, worded for the client. Anything that is not a
 * DomainError (or a Nest HttpException) is treated as a bug and answered
 * with a generic 500.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldError[],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static invalid(field: string, message: string): DomainError {
    return new DomainError(ErrorCode.InvalidInput, 'Validation failed', [{ field, message }]);
  }

  static invalidFields(details: FieldError[]): DomainError {
    return new DomainError(ErrorCode.InvalidInput, 'Validation failed', details);
  }

  static notFound(what: string): DomainError {
    return new DomainError(ErrorCode.NotFound, `${what} not found`);
  }

  static conflict(message: string): DomainError {
    return new DomainError(ErrorCode.Conflict, message);
  }

  static unauthenticated(message = 'Authentication required'): DomainError {
    return new DomainError(ErrorCode.Unauthenticated, message);
  }

  static rateLimited(message: string, retryAfterSeconds: number): DomainError {
    return new DomainError(ErrorCode.RateLimited, message, undefined, retryAfterSeconds);
  }

  static unavailable(message: string): DomainError {
    return new DomainError(ErrorCode.Unavailable, message);
  }
}

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.InvalidInput:
      return 400;
    case ErrorCode.Unauthenticated:
      return 401;
    case ErrorCode.Forbidden:
      return 403;
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.Conflict:
      return 409;
    case ErrorCode.RateLimited:
      return 429;
    case ErrorCode.UpstreamFailed:
      return 502;
    case ErrorCode.Unavailable:
      return 503;
  }
}
