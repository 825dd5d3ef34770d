import type { FieldError } from '../errors/domain-error';

/**
 * The prototype keys, and every name Object.prototype carries: class-validator
 * looks known properties up in a plain object, so `toString` or `valueOf`
 * passed as known and reached the DTO, shadowing its methods.
 */
const RESERVED = new Set(['prototype', ...Object.getOwnPropertyNames(Object.prototype)]);
const MAX_WALK_DEPTH = 64;

/**
 * Keys that Nest's ValidationPipe and class-transformer delete without a word
 * (prototype-pollution guards) or wrongly take for known. We refuse them
 * instead, as unknown properties like any other, at any depth.
 */
export function reservedKeyErrors(value: unknown): FieldError[] {
  const found: FieldError[] = [];
  const walk = (node: unknown, path: string[]): void => {
    if (typeof node !== 'object' || node === null || path.length > MAX_WALK_DEPTH) return;
    if (Array.isArray(node)) {
      node.forEach((item, index) => walk(item, [...path, String(index)]));
      return;
    }
    for (const [key, child] of Object.entries(node)) {
      if (RESERVED.has(key)) {
        found.push({
          field: [...path, key].join('.'),
          message: `property ${key} should not exist`,
        });
      } else {
        walk(child, [...path, key]);
      }
    }
  };
  walk(value, []);
  return found;
}
