import { Migration } from '@mikro-orm/migrations';

/**
 * What the hosts service enforces, enforced again by the database, so that a
 * row written around the service (SQL, a bug, a bypassed lock) cannot open an
 * unverified connection or share VMIDs with another host.
 */
export class Migration20261130010000HostConstraints extends Migration {
  override up(): void {
    this.addSql(
      `alter table "proxmox_host" add constraint "proxmox_host_tls_pinned" check (tls_insecure or tls_fingerprint is not null or ca_cert is not null);`,
    );
    this.addSql(
      `alter table "proxmox_host" add constraint "proxmox_host_ssh_pinned" check (ssh_insecure or ssh_host_key_fingerprint is not null);`,
    );
    this.addSql(
      `alter table "proxmox_host" add constraint "proxmox_host_api_port" check (port >= 1 and port <= 65535);`,
    );
    this.addSql(
      `alter table "proxmox_host" add constraint "proxmox_host_ssh_port" check (ssh_port >= 1 and ssh_port <= 65535);`,
    );
    this.addSql(
      `alter table "proxmox_host" add constraint "proxmox_host_port_bounds" check (port_min >= 1 and port_max <= 65535);`,
    );
    this.addSql(
      `alter table "proxmox_host" add constraint "proxmox_host_vmid_bounds" check (vmid_min >= 100 and vmid_max <= 999999999);`,
    );
    // int4range has a GiST operator class of its own: no extension is needed.
    this.addSql(
      `alter table "proxmox_host" add constraint "proxmox_host_vmid_disjoint" exclude using gist (int4range(vmid_min, vmid_max, '[]') with &&);`,
    );
  }

  override down(): void {
    for (const name of [
      'proxmox_host_vmid_disjoint',
      'proxmox_host_vmid_bounds',
      'proxmox_host_port_bounds',
      'proxmox_host_ssh_port',
      'proxmox_host_api_port',
      'proxmox_host_ssh_pinned',
      'proxmox_host_tls_pinned',
    ]) {
      this.addSql(`alter table "proxmox_host" drop constraint if exists "${name}";`);
    }
  }
}
