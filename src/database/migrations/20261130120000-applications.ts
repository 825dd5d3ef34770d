import { Migration } from '@mikro-orm/migrations';

/**
 * Applications, their public ports, operations and logs. What must be unique
 * (a live hostname, a VMID per host, a port per host and protocol, one active
 * operation per application) is a constraint here, so a bug in the locking
 * above it is still caught by the database.
 */
export class Migration20261130120000Applications extends Migration {
  override up(): void {
    this.addSql(
      `create type "application_status" as enum ('deploying', 'running', 'stopped', 'starting', 'stopping', 'restarting', 'cloning', 'restoring', 'removing', 'adopting', 'error');`,
    );
    this.addSql(`create type "port_protocol" as enum ('tcp', 'udp');`);
    this.addSql(`create type "port_state" as enum ('reserved', 'forwarded');`);
    this.addSql(
      `create type "operation_type" as enum ('deploy', 'start', 'stop', 'restart', 'delete', 'clone', 'backup', 'restore', 'backup_delete', 'adopt');`,
    );
    this.addSql(
      `create type "operation_status" as enum ('queued', 'running', 'succeeded', 'failed');`,
    );
    this.addSql(`create type "log_level" as enum ('info', 'warn', 'error');`);
    this.addSql(
      `create table "application" ("id" uuid not null, "owner_id" uuid not null, "host_id" uuid not null, "node" varchar(64) not null, "vmid" int null, "hostname" varchar(63) not null, "name" varchar(80) not null, "catalog_id" varchar(64) not null, "status" "application_status" not null default 'deploying', "cores" int not null, "memory_mb" int not null, "disk_gb" int not null, "swap_mb" int not null, "environment" jsonb not null, "secret_environment" text null, "secret_environment_keys" jsonb not null, "root_password" text null, "ip_address" varchar(45) null, "url" varchar(300) null, "adopted" boolean not null default false, "last_error" text null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "application_pkey" primary key ("id"), constraint application_resources_positive check (cores >= 1 and memory_mb >= 1 and disk_gb >= 1 and swap_mb >= 0));`,
    );
    this.addSql(
      `create index "application_host_id_node_index" on "application" ("host_id", "node");`,
    );
    this.addSql(`create index "application_status_index" on "application" ("status");`);
    this.addSql(
      `create index "application_owner_id_created_at_index" on "application" ("owner_id", "created_at");`,
    );
    this.addSql(
      `create unique index "application_hostname_live_unique" on "application" (lower("hostname")) where "status" not in ('error', 'removing');`,
    );
    this.addSql(
      `alter table "application" add constraint "application_host_id_vmid_unique" unique ("host_id", "vmid");`,
    );
    this.addSql(
      `create table "port_allocation" ("id" uuid not null, "host_id" uuid not null, "port" int not null, "protocol" "port_protocol" not null, "application_id" uuid not null, "name" varchar(64) not null, "container_port" int not null, "state" "port_state" not null default 'reserved', "created_at" timestamptz not null, constraint "port_allocation_pkey" primary key ("id"), constraint port_allocation_port_range check (port >= 1 and port <= 65535));`,
    );
    this.addSql(
      `create index "port_allocation_application_id_index" on "port_allocation" ("application_id");`,
    );
    this.addSql(
      `alter table "port_allocation" add constraint "port_allocation_host_id_port_protocol_unique" unique ("host_id", "port", "protocol");`,
    );
    this.addSql(
      `create table "operation" ("id" uuid not null, "type" "operation_type" not null, "status" "operation_status" not null default 'queued', "step" varchar(64) null, "progress" int not null default 0, "attempts" int not null default 0, "max_attempts" int not null default 3, "error" text null, "application_id" uuid not null, "actor_id" uuid null, "idempotency_key" varchar(128) null, "created_at" timestamptz not null, "started_at" timestamptz null, "finished_at" timestamptz null, "updated_at" timestamptz not null, constraint "operation_pkey" primary key ("id"), constraint operation_attempts_range check (attempts >= 0 and max_attempts >= 1), constraint operation_progress_range check (progress >= 0 and progress <= 100));`,
    );
    this.addSql(
      `alter table "operation" add constraint "operation_idempotency_key_unique" unique ("idempotency_key");`,
    );
    this.addSql(`create index "operation_status_index" on "operation" ("status");`);
    this.addSql(
      `create index "operation_application_id_created_at_index" on "operation" ("application_id", "created_at");`,
    );
    this.addSql(
      `create unique index "operation_one_active_per_application" on "operation" ("application_id") where "status" in ('queued', 'running');`,
    );
    this.addSql(
      `create table "deployment_log" ("id" uuid not null, "application_id" uuid not null, "operation_id" uuid null, "at" timestamptz not null, "level" "log_level" not null default 'info', "step" varchar(64) null, "message" text not null, constraint "deployment_log_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "deployment_log_operation_id_index" on "deployment_log" ("operation_id");`,
    );
    this.addSql(
      `create index "deployment_log_application_id_at_index" on "deployment_log" ("application_id", "at");`,
    );
    this.addSql(
      `alter table "application" add constraint "application_owner_id_foreign" foreign key ("owner_id") references "user_account" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "application" add constraint "application_host_id_foreign" foreign key ("host_id") references "proxmox_host" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "port_allocation" add constraint "port_allocation_host_id_foreign" foreign key ("host_id") references "proxmox_host" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "port_allocation" add constraint "port_allocation_application_id_foreign" foreign key ("application_id") references "application" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "operation" add constraint "operation_application_id_foreign" foreign key ("application_id") references "application" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "deployment_log" add constraint "deployment_log_application_id_foreign" foreign key ("application_id") references "application" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "deployment_log" add constraint "deployment_log_operation_id_foreign" foreign key ("operation_id") references "operation" ("id") on update cascade on delete set null;`,
    );
  }

  override down(): void {
    for (const table of ['deployment_log', 'operation', 'port_allocation', 'application']) {
      this.addSql(`drop table if exists "${table}";`);
    }
    for (const type of [
      'log_level',
      'operation_status',
      'operation_type',
      'port_state',
      'port_protocol',
      'application_status',
    ]) {
      this.addSql(`drop type if exists "${type}";`);
    }
  }
}
