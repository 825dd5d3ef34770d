import type { FieldError } from '../errors/domain-error';

const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_WALK_DEPTH = 64;

/**
 * Keys that Nest's ValidationPipe and class-transformer delete without a word
 * (prototype-pollution guards). We refuse them instead, as unknown properties
 * like any other, at any depth.
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
