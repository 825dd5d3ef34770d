import { type ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import type { ValidationError, ValidatorOptions } from 'class-validator';
import { DomainError, ErrorCode, type FieldError } from '../errors/domain-error';
import { controlCharacterErrors } from './control-characters';
import { NOT_AN_OBJECT } from './json-shape';
import { reservedKeyErrors } from './reserved-keys';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Carries our own findings out of validate(), next to class-validator's errors. */
class ValidatedObjectError extends Error {
  constructor(
    readonly errors: ValidationError[],
    readonly controlCharacters: FieldError[],
  ) {
    super('validation failed');
  }
}

/**
 * Nest's ValidationPipe (whitelist, forbid unknown keys, transform) plus what
 * it does not do: the body must be an object, prototype keys are refused
 * rather than silently deleted, and control characters are refused in every
 * string unless its field is marked @MultilineText().
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
    try {
      const result: unknown = await super.transform(value, metadata);
      if (reserved.length > 0) throw DomainError.invalidFields(reserved);
      return result;
    } catch (err) {
      if (!(err instanceof ValidatedObjectError)) throw err;
      // Ours first: for a field with a control character that is its message.
      const found = [...reserved, ...err.controlCharacters, ...flatten(err.errors)];
      const seen = new Set<string>();
      throw DomainError.invalidFields(found.filter((e) => !seen.has(e.field) && seen.add(e.field)));
    }
  }

  protected override async validate(
    object: object,
    options?: ValidatorOptions,
  ): Promise<ValidationError[]> {
    const errors = await super.validate(object, options);
    const controlCharacters = controlCharacterErrors(object);
    if (errors.length > 0 || controlCharacters.length > 0) {
      throw new ValidatedObjectError(errors, controlCharacters);
    }
    return errors;
  }
}

export function createValidationPipe(): ValidationPipe {
  return new ApiValidationPipe();
}
