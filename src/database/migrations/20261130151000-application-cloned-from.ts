import { Migration } from '@mikro-orm/migrations';

/**
 * The application a clone was made from: while the clone's operation runs,
 * lifecycle actions and removal of its source are refused.
 */
export class Migration20261130151000ApplicationClonedFrom extends Migration {
  override up(): void {
    this.addSql(`alter table "application" add column "cloned_from_id" uuid null;`);
    this.addSql(
      `alter table "application" add constraint "application_cloned_from_id_foreign" foreign key ("cloned_from_id") references "application" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `create index "application_cloned_from_id_index" on "application" ("cloned_from_id");`,
    );
  }

  override down(): void {
    this.addSql(`drop index if exists "application_cloned_from_id_index";`);
    this.addSql(`alter table "application" drop constraint "application_cloned_from_id_foreign";`);
    this.addSql(`alter table "application" drop column "cloned_from_id";`);
  }
}
