import { getMetadataStorage, ValidateBy } from 'class-validator';
import type { FieldError } from '../errors/domain-error';

/** Unicode "Cc": C0 controls, DEL and C1 controls. NUL cannot even be stored by PostgreSQL. */
const CONTROL = /\p{Cc}/u;
const CONTROL_BUT_LINE_BREAKS = /[^\P{Cc}\t\n\r]/u;
const MULTILINE_TEXT = 'isMultilineText';
/** Bodies are at most 32 levels deep (json-shape); this only bounds a hostile object built in code. */
const MAX_WALK_DEPTH = 64;

/**
 * Marks a string field that legitimately holds tabs and line breaks (PEM
 * documents, private keys, multi-line notes). Every other string field
 * refuses all control characters; this one still refuses the others.
 * A class-validator rule, so PartialType() and friends carry it over.
 */
export function MultilineText(): PropertyDecorator {
  return ValidateBy({
    name: MULTILINE_TEXT,
    validator: {
      validate: (value: unknown) =>
        typeof value !== 'string' || !CONTROL_BUT_LINE_BREAKS.test(value),
      defaultMessage: () =>
        '$property must not contain control characters other than tabs and line breaks',
    },
  });
}

const multilineFieldsCache = new WeakMap<object, ReadonlySet<string>>();

function multilineFieldsOf(target: object): ReadonlySet<string> {
  const ctor = target.constructor;
  if (typeof ctor !== 'function' || ctor === Object) return new Set();
  let fields = multilineFieldsCache.get(ctor);
  if (!fields) {
    fields = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(ctor, '', true, false)
        .filter((m) => m.name === MULTILINE_TEXT)
        .map((m) => m.propertyName),
    );
    multilineFieldsCache.set(ctor, fields);
  }
  return fields;
}

function isWalkable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  return !(value instanceof Date) && !ArrayBuffer.isView(value);
}

/**
 * Every string of a transformed DTO (nested DTOs, arrays and maps included)
 * with a control character in it, except in fields marked @MultilineText().
 * A string inside an array is reported on the array's field, as
 * class-validator's `each` rules are.
 */
export function controlCharacterErrors(dto: object): FieldError[] {
  const found: FieldError[] = [];
  const walk = (object: Record<string, unknown>, path: string[]): void => {
    if (path.length > MAX_WALK_DEPTH) return;
    const multiline = multilineFieldsOf(object);
    for (const [key, value] of Object.entries(object)) {
      if (multiline.has(key)) continue; // checked by its own rule
      const field = [...path, key];
      const report = () =>
        found.push({
          field: field.join('.'),
          message: `${key} must not contain control characters`,
        });
      if (typeof value === 'string') {
        if (CONTROL.test(value)) report();
      } else if (Array.isArray(value)) {
        if (value.some((item) => typeof item === 'string' && CONTROL.test(item))) report();
        value.forEach((item, index) => {
          if (isWalkable(item)) walk(item, [...field, String(index)]);
        });
      } else if (isWalkable(value)) {
        walk(value, field);
      }
    }
  };
  if (isWalkable(dto)) walk(dto, []);
  return found;
}
