import { Migration } from '@mikro-orm/migrations';

/** An adopted container was never deployed from the catalog: its application has no catalog app. */
export class Migration20261130152000AdoptedApplications extends Migration {
  override up(): void {
    this.addSql(`alter table "application" alter column "catalog_id" drop not null;`);
  }

  override down(): void {
    this.addSql(`delete from "application" where "catalog_id" is null;`);
    this.addSql(`alter table "application" alter column "catalog_id" set not null;`);
  }
}
