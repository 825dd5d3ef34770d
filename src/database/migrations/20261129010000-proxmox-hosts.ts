import { Migration } from '@mikro-orm/migrations';

export class Migration20261129010000ProxmoxHosts extends Migration {
  override up(): void {
    this.addSql(`create type "node_status" as enum ('online', 'offline', 'unknown');`);
    this.addSql(
      `create table "proxmox_host" ("id" uuid not null, "name" varchar(64) not null, "host" varchar(253) not null, "port" int not null default 8006, "token_id" varchar(128) null, "token_secret" text null, "username" varchar(128) null, "password" text null, "tls_fingerprint" varchar(95) null, "ca_cert" text null, "tls_insecure" boolean not null default false, "ssh_host" varchar(253) null, "ssh_port" int not null default 22, "ssh_user" varchar(64) not null default 'root', "ssh_private_key" text null, "ssh_password" text null, "ssh_host_key_fingerprint" varchar(64) null, "ssh_insecure" boolean not null default false, "storage" varchar(64) not null, "backup_storage" varchar(64) not null, "bridge" varchar(32) not null, "template" varchar(255) not null, "vmid_min" int not null, "vmid_max" int not null, "port_min" int not null, "port_max" int not null, "is_default" boolean not null default false, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "proxmox_host_pkey" primary key ("id"), constraint "proxmox_host_vmid_range" check (vmid_min <= vmid_max), constraint "proxmox_host_port_range" check (port_min <= port_max));`,
    );
    this.addSql(
      `create unique index "proxmox_host_name_lower_unique" on "proxmox_host" (lower("name"));`,
    );
    this.addSql(
      `create unique index "proxmox_host_single_default" on "proxmox_host" ("is_default") where "is_default";`,
    );
    this.addSql(
      `create table "proxmox_node" ("id" uuid not null, "host_id" uuid not null, "name" varchar(64) not null, "status" "node_status" not null default 'unknown', "cpus" int not null default 0, "memory_total" bigint not null default 0, "memory_free" bigint not null default 0, "disk_free" bigint not null default 0, "synced_at" timestamptz not null, constraint "proxmox_node_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "proxmox_node_host_id_index" on "proxmox_node" ("host_id");`);
    this.addSql(
      `alter table "proxmox_node" add constraint "proxmox_node_host_id_name_unique" unique ("host_id", "name");`,
    );
    this.addSql(
      `alter table "proxmox_node" add constraint "proxmox_node_host_id_foreign" foreign key ("host_id") references "proxmox_host" ("id") on update cascade on delete cascade;`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "proxmox_node";`);
    this.addSql(`drop table if exists "proxmox_host";`);
    this.addSql(`drop type if exists "node_status";`);
  }
}
