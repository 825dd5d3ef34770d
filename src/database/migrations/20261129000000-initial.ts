import { Migration } from '@mikro-orm/migrations';

export class Migration20261129000000Initial extends Migration {
  override up(): void {
    this.addSql(`create type "audit_outcome" as enum ('success', 'failure');`);
    this.addSql(`create type "user_role" as enum ('admin', 'user');`);

    this.addSql(
      `create table "user_account" ("id" uuid not null, "username" varchar(64) not null, "password_hash" text not null, "role" "user_role" not null default 'user', "disabled" boolean not null default false, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "user_account_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create unique index "user_account_username_lower_unique" on "user_account" (lower("username"));`,
    );

    this.addSql(
      `create table "refresh_token" ("id" uuid not null, "user_id" uuid not null, "token_hash" varchar(64) not null, "family_id" uuid not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, "created_at" timestamptz not null, constraint "refresh_token_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "refresh_token_user_id_index" on "refresh_token" ("user_id");`);
    this.addSql(
      `alter table "refresh_token" add constraint "refresh_token_token_hash_unique" unique ("token_hash");`,
    );
    this.addSql(`create index "refresh_token_family_id_index" on "refresh_token" ("family_id");`);
    this.addSql(
      `alter table "refresh_token" add constraint "refresh_token_user_id_foreign" foreign key ("user_id") references "user_account" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `create table "api_token" ("id" uuid not null, "owner_id" uuid not null, "name" varchar(80) not null, "token_hash" varchar(64) not null, "expires_at" timestamptz not null, "last_used_at" timestamptz null, "created_at" timestamptz not null, constraint "api_token_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "api_token_owner_id_index" on "api_token" ("owner_id");`);
    this.addSql(
      `alter table "api_token" add constraint "api_token_token_hash_unique" unique ("token_hash");`,
    );
    this.addSql(
      `alter table "api_token" add constraint "api_token_owner_id_foreign" foreign key ("owner_id") references "user_account" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `create table "audit_entry" ("id" uuid not null, "at" timestamptz not null, "actor_id" uuid null, "action" varchar(64) not null, "resource_type" varchar(64) not null, "resource_id" varchar(128) null, "ip" varchar(64) null, "outcome" "audit_outcome" not null, constraint "audit_entry_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "audit_entry_action_at_index" on "audit_entry" ("action", "at");`);
    this.addSql(
      `create index "audit_entry_actor_id_at_index" on "audit_entry" ("actor_id", "at");`,
    );
    this.addSql(`create index "audit_entry_at_index" on "audit_entry" ("at");`);

    this.addSql(
      `create table "settings" ("id" int not null default 1, "defaults" jsonb not null, "limits" jsonb not null, "network" jsonb not null, "updated_by" uuid null, "updated_at" timestamptz not null, constraint "settings_pkey" primary key ("id"), constraint "settings_single_row" check (id = 1));`,
    );
    this.addSql(
      `insert into "settings" ("id", "defaults", "limits", "network", "updated_at") values (1, '{"cores":2,"memoryMb":2048,"diskGb":16,"swapMb":512}', '{"maxCores":8,"maxMemoryMb":16384,"maxDiskGb":200,"maxAppsPerUser":20}', '{"ipMode":"dhcp","dns":[]}', now());`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "settings";`);
    this.addSql(`drop table if exists "audit_entry";`);
    this.addSql(`drop table if exists "api_token";`);
    this.addSql(`drop table if exists "refresh_token";`);
    this.addSql(`drop table if exists "user_account";`);
    this.addSql(`drop type if exists "user_role";`);
    this.addSql(`drop type if exists "audit_outcome";`);
  }
}
