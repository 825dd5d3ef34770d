import { Migration } from '@mikro-orm/migrations';

/**
 * The application list's default order (newest first, id to break ties) for
 * an admin, who sees every owner: a page is read from this index instead of
 * sorting the whole table.
 */
export class Migration20261130130000ApplicationListOrder extends Migration {
  override up(): void {
    this.addSql(
      `create index "application_created_at_id_index" on "application" ("created_at", "id");`,
    );
  }

  override down(): void {
    this.addSql(`drop index if exists "application_created_at_id_index";`);
  }
}
