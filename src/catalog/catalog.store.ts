import { Injectable } from '@nestjs/common';
import type { CatalogApp } from './catalog-app';
import type { CatalogLoadError, CatalogLoadResult } from './catalog.loader';

/** One loaded catalog. Frozen: readers keep a consistent view while a reload swaps in the next. */
export interface CatalogSnapshot {
  /** Sorted by name. */
  readonly apps: readonly CatalogApp[];
  readonly byId: ReadonlyMap<string, CatalogApp>;
  readonly errors: readonly CatalogLoadError[];
  readonly loadedAt: Date | null;
}

const EMPTY: CatalogSnapshot = Object.freeze({
  apps: Object.freeze([]),
  byId: new Map<string, CatalogApp>(),
  errors: Object.freeze([]),
  loadedAt: null,
});

/**
 * The catalog this process serves. A reload builds a whole new snapshot and
 * replaces the reference in one assignment, so a request never sees half of
 * an old catalog and half of a new one.
 */
@Injectable()
export class CatalogStore {
  private current: CatalogSnapshot = EMPTY;

  get snapshot(): CatalogSnapshot {
    return this.current;
  }

  replace(result: CatalogLoadResult): CatalogSnapshot {
    this.current = Object.freeze({
      apps: Object.freeze([...result.apps]),
      byId: new Map(result.apps.map((app) => [app.id, app])),
      errors: Object.freeze([...result.errors]),
      loadedAt: new Date(),
    });
    return this.current;
  }
}
