import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

export const MAX_PAGE = 10_000;
export const MAX_PER_PAGE = 100;

const DECIMAL_DIGITS = /^[0-9]+$/;

/**
 * An integer in a query string: plain decimal digits only. Number() (what
 * `@Type(() => Number)` does) also reads "2e0", "0x2", "+2", " 2" and "2.0"
 * as 2; anything but digits is left as a string for @IsInt() to refuse.
 */
export const QueryInt = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && DECIMAL_DIGITS.test(value) ? Number(value) : value,
  );

/** `?page&perPage` with the bounds of docs/api.md; out of range is a 400, never clamped. */
export class PaginationQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 1 })
  @QueryInt()
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE)
  page: number = 1;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PER_PAGE, default: 20 })
  @QueryInt()
  @IsInt()
  @Min(1)
  @Max(MAX_PER_PAGE)
  perPage: number = 20;

  get offset(): number {
    return (this.page - 1) * this.perPage;
  }
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  perPage: number;
}

export function pageOf<T>(items: T[], total: number, query: PaginationQuery): Page<T> {
  return { items, total, page: query.page, perPage: query.perPage };
}

/** Swagger schema for a page of T (generics do not survive into the OpenAPI document). */
export function PageDto<T>(item: new () => T, name: string): new () => Page<T> {
  class PageOf {
    @ApiProperty({ type: [item] })
    items!: T[];

    @ApiProperty({ example: 42 })
    total!: number;

    @ApiProperty({ example: 1 })
    page!: number;

    @ApiProperty({ example: 20 })
    perPage!: number;
  }
  Object.defineProperty(PageOf, 'name', { value: name });
  return PageOf;
}

/** The same page with every item mapped (entities to response DTOs). */
export function mapPage<T, U>(page: Page<T>, map: (item: T) => U): Page<U> {
  return { ...page, items: page.items.map((item) => map(item)) };
}
