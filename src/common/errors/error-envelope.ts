import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import type { FieldError } from './domain-error';

export class FieldErrorDto implements FieldError {
  @ApiProperty({ example: 'hostname' })
  field!: string;

  @ApiProperty({ example: 'must be a lowercase RFC 1123 label' })
  message!: string;
}

/** The one shape every error answer has (docs/api.md, Errors). */
export class ErrorEnvelope {
  @ApiProperty({ example: 409 })
  statusCode!: number;

  @ApiProperty({ example: 'Conflict' })
  error!: string;

  @ApiProperty({ example: "username 'alice' is taken" })
  message!: string;

  @ApiProperty({ example: '5f0c6c1e-8f5a-4a0e-9d55-0d3c1c9f8a11' })
  requestId!: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Only for validation errors' })
  details?: FieldError[];
}

export function errorEnvelope(
  statusCode: number,
  message: string,
  requestId: string,
  details?: FieldError[],
): ErrorEnvelope {
  const body: ErrorEnvelope = {
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message,
    requestId,
  };
  if (details && details.length > 0) body.details = details;
  return body;
}

export const GENERIC_SERVER_ERROR = 'Internal server error';
