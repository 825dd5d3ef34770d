import { Migration } from '@mikro-orm/migrations';

/**
 * Backups of an application's container (vzdump archives) with the status
 * of their current operation, and an operation's options (a delete that
 * keeps the application's backup archives).
 */
export class Migration20261130150000Backups extends Migration {
  override up(): void {
    this.addSql(
      `create type "backup_status" as enum ('creating', 'completed', 'failed', 'restoring', 'deleting');`,
    );
    this.addSql(`create type "backup_mode" as enum ('snapshot', 'suspend', 'stop');`);
    this.addSql(`create type "backup_compression" as enum ('zstd', 'gzip', 'lzo');`);
    this.addSql(
      `create table "backup" ("id" uuid not null, "application_id" uuid not null, "status" "backup_status" not null default 'creating', "mode" "backup_mode" not null, "compress" "backup_compression" not null, "volid" varchar(255) null, "size_bytes" bigint null, "notes" varchar(1000) null, "error" text null, "scheduled" boolean not null default false, "catalog_version" varchar(64) not null, "operation_id" uuid null, "task_upid" varchar(255) null, "start_after_restore" boolean null, "created_at" timestamptz not null, "completed_at" timestamptz null, constraint "backup_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "backup_application_id_created_at_index" on "backup" ("application_id", "created_at");`,
    );
    this.addSql(
      `create index "backup_application_id_status_index" on "backup" ("application_id", "status");`,
    );
    this.addSql(
      `alter table "backup" add constraint "backup_application_id_foreign" foreign key ("application_id") references "application" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "backup" add constraint "backup_operation_id_foreign" foreign key ("operation_id") references "operation" ("id") on update cascade on delete set null;`,
    );
    this.addSql(`alter table "operation" add column "options" jsonb null;`);
  }

  override down(): void {
    this.addSql(`alter table "operation" drop column "options";`);
    this.addSql(`drop table if exists "backup" cascade;`);
    this.addSql(`drop type "backup_status";`);
    this.addSql(`drop type "backup_mode";`);
    this.addSql(`drop type "backup_compression";`);
  }
}
