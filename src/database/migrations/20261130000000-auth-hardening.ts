import { Migration } from '@mikro-orm/migrations';

/** Access JWTs die with a password change. */
export class Migration20261130000000AuthHardening extends Migration {
  override up(): void {
    this.addSql(
      `alter table "user_account" add column "credentials_version" int not null default 0;`,
    );
  }

  override down(): void {
    this.addSql(`alter table "user_account" drop column "credentials_version";`);
  }
}
