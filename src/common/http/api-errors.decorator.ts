import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorEnvelope } from '../errors/error-envelope';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; `details` names each field',
  404: 'Not found, or not visible to the caller',
  409: 'Conflicts with the current state',
  413: 'Request body larger than 256 KiB',
  429: 'Too many requests; see Retry-After',
  502: 'An upstream system failed',
  503: 'A dependency is unavailable',
};

/** Documents the error answers a route can give, all in the error envelope. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, type: ErrorEnvelope, description: DESCRIPTIONS[status] ?? 'Error' }),
    ),
  );
}
