import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error';
import { pageOf, type Page, type PaginationQuery } from '../common/pagination/pagination';
import type { CatalogApp } from './catalog-app';
import { CatalogStore } from './catalog.store';

export interface CatalogFilter {
  /** Case-insensitive substring of the name, the description or a tag. */
  search?: string;
  /** Exact category, case-insensitive. */
  category?: string;
}

export interface CategoryCount {
  name: string;
  count: number;
}

/** Reads the current catalog snapshot; other modules (the deploy pipeline) use find(). */
@Injectable()
export class CatalogService {
  constructor(private readonly store: CatalogStore) {}

  list(filter: CatalogFilter, query: PaginationQuery): Page<CatalogApp> {
    const needle = filter.search?.trim().toLowerCase() ?? '';
    const category = filter.category?.toLowerCase();
    const matches = this.store.snapshot.apps.filter(
      (app) =>
        (category === undefined || app.category === category) &&
        (needle === '' ||
          app.name.toLowerCase().includes(needle) ||
          app.description.toLowerCase().includes(needle) ||
          app.tags.some((tag) => tag.includes(needle))),
    );
    const items = matches.slice(query.offset, query.offset + query.perPage);
    return pageOf(items, matches.length, query);
  }

  categories(): CategoryCount[] {
    const counts = new Map<string, number>();
    for (const app of this.store.snapshot.apps) {
      counts.set(app.category, (counts.get(app.category) ?? 0) + 1);
    }
    return [...counts.entries()]
      .map(([name, count]) => ({ name, count }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  find(id: string): CatalogApp | undefined {
    return this.store.snapshot.byId.get(id);
  }

  get(id: string): CatalogApp {
    const app = this.find(id);
    if (!app) throw DomainError.notFound('Catalog app');
    return app;
  }
}
