import { ValidateIf } from 'class-validator';

/**
 * Like @IsOptional(), but only for an absent key: an explicit null is
 * validated (and refused), so it can never reach a NOT NULL column.
 */
export const Optional = (): PropertyDecorator =>
  ValidateIf((_object: object, value: unknown) => value !== undefined);
