import { type ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import type { ValidationError, ValidatorOptions } from 'class-validator';
import { DomainError, ErrorCode, type FieldError } from '../errors/domain-error';
import { controlCharacterErrors } from './control-characters';
import { NOT_AN_OBJECT } from './json-shape';
import { reservedKeyErrors } from './reserved-keys';

/**
 * The one rule reported for a field. class-validator records constraints in
 * the order decorators are applied (bottom-up, not reading order), so the
 * type check is found by its name ("isString", "isInt", ...) and otherwise
 * the topmost decorator (the last key) wins.
 */
function firstRule(constraints: Record<string, string>): string {
  const names = Object.keys(constraints);
  const typeChecks = names.filter((name) => name.startsWith('is'));
  const chosen = (typeChecks.length > 0 ? typeChecks : names).at(-1)!;
  return constraints[chosen];
}

function flatten(errors: ValidationError[], parent: unknown, prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const known = typeof parent === 'object' && parent !== null;
    const value = known ? (parent as Record<string, unknown>)[error.property] : undefined;
    if (known && value === undefined && error.constraints) {
      return [{ field, message: `${error.property} is required` }];
    }
    const own = error.constraints ? [{ field, message: firstRule(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], value, field)];
  });
}

function onePerField(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter(({ field }) => !seen.has(field) && seen.add(field));
}

/**
 * Carries the transformed object out of validate(): the messages depend on
 * its values ("is required") and Nest's exception factory only gets the errors.
 */
class ValidatedObjectError extends Error {
  constructor(
    readonly object: object,
    readonly errors: ValidationError[],
    readonly controlCharacters: FieldError[],
  ) {
    super('validation failed');
  }
}

/**
 * Nest's ValidationPipe (whitelist, forbid unknown keys, transform) plus what
 * it does not do: the body must be an object, prototype keys are refused
 * rather than silently deleted, control characters are refused in every
 * string unless its field is marked @MultilineText(), and each field gets
 * one message ("x is required" when it is missing).
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
      exceptionFactory: (errors) => DomainError.invalidFields(flatten(errors, undefined)),
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
      // Ours first: for a field with a control character that is the message it gets.
      const found = [...reserved, ...err.controlCharacters, ...flatten(err.errors, err.object)];
      throw DomainError.invalidFields(onePerField(found));
    }
  }

  protected override async validate(
    object: object,
    options?: ValidatorOptions,
  ): Promise<ValidationError[]> {
    const errors = await super.validate(object, options);
    const controlCharacters = controlCharacterErrors(object);
    if (errors.length > 0 || controlCharacters.length > 0) {
      throw new ValidatedObjectError(object, errors, controlCharacters);
    }
    return errors;
  }
}

export function createValidationPipe(): ValidationPipe {
  return new ApiValidationPipe();
}
