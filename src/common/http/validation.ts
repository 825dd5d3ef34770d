import { type ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { DomainError, ErrorCode, type FieldError } from '../errors/domain-error';
import { NOT_AN_OBJECT } from './json-shape';
import { reservedKeyErrors } from './reserved-keys';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * Nest's ValidationPipe (whitelist, forbid unknown keys, transform) plus what
 * it does not do: the body must be an object, and prototype keys are refused
 * rather than silently deleted.
 */
export class ApiValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      // Validation messages must not echo the submitted values (they may be secrets).
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => DomainError.invalidFields(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (!metadata.metatype || !this.toValidate(metadata)) return super.transform(value, metadata);
    const wholeBody = metadata.type === 'body' && !metadata.data;
    if (wholeBody && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new DomainError(ErrorCode.InvalidInput, NOT_AN_OBJECT);
    }
    const reserved = reservedKeyErrors(value);
    let result: unknown;
    try {
      result = await super.transform(value, metadata);
    } catch (err) {
      if (reserved.length === 0 || !(err instanceof DomainError)) throw err;
      throw DomainError.invalidFields([...reserved, ...(err.details ?? [])]);
    }
    if (reserved.length > 0) throw DomainError.invalidFields(reserved);
    return result;
  }
}

export function createValidationPipe(): ValidationPipe {
  return new ApiValidationPipe();
}
