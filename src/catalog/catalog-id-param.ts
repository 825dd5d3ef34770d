import { Injectable, type PipeTransform } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error';
import { CATALOG_ID_PATTERN } from './catalog-app';

/** A malformed catalog id is a 400 naming the parameter; a well-formed unknown one a 404. */
@Injectable()
export class CatalogIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!CATALOG_ID_PATTERN.test(value)) {
      throw DomainError.invalid(
        'id',
        'id must be 1..63 characters of a-z, 0-9 and "-", starting with a letter or digit',
      );
    }
    return value;
  }
}
