import { Migration } from '@mikro-orm/migrations';

/**
 * A node's address as the cluster resolves its name: an application's URL
 * points at the node its container runs on, not at the host Proximity calls.
 */
export class Migration20261130140000NodeAddress extends Migration {
  override up(): void {
    this.addSql(`alter table "proxmox_node" add column "address" varchar(45) null;`);
  }

  override down(): void {
    this.addSql(`alter table "proxmox_node" drop column "address";`);
  }
}
