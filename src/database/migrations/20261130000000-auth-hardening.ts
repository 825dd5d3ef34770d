import { Migration } from '@mikro-orm/migrations';

/** Access JWTs die with a password change; personal API tokens get a scope. */
export class Migration20261130000000AuthHardening extends Migration {
  override up(): void {
    this.addSql(
      `alter table "user_account" add column "credentials_version" int not null default 0;`,
    );
    this.addSql(`create type "api_token_scope" as enum ('read', 'write');`);
    this.addSql(
      `alter table "api_token" add column "scope" "api_token_scope" not null default 'write';`,
    );
  }

  override down(): void {
    this.addSql(`alter table "api_token" drop column "scope";`);
    this.addSql(`drop type if exists "api_token_scope";`);
    this.addSql(`alter table "user_account" drop column "credentials_version";`);
  }
}
