import { Migration } from '@mikro-orm/migrations';

/** At most one backup schedule per application, deleted with it. */
export class Migration20261130153000BackupSchedules extends Migration {
  override up(): void {
    this.addSql(
      `create table "backup_schedule" ("id" uuid not null, "application_id" uuid not null, "cron" varchar(120) not null, "keep_last" int not null, "mode" "backup_mode" not null, "compress" "backup_compression" not null, "enabled" boolean not null default true, "last_tick_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "backup_schedule_pkey" primary key ("id"), constraint backup_schedule_keep_last_range check (keep_last >= 1 and keep_last <= 100));`,
    );
    this.addSql(
      `alter table "backup_schedule" add constraint "backup_schedule_application_id_unique" unique ("application_id");`,
    );
    this.addSql(
      `alter table "backup_schedule" add constraint "backup_schedule_application_id_foreign" foreign key ("application_id") references "application" ("id") on update cascade on delete cascade;`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "backup_schedule" cascade;`);
  }
}
