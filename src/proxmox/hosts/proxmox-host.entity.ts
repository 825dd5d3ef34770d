import { Check, Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import type { Sealed } from '../../crypto/keyring';
import { randomUUID } from 'node:crypto';
import { EncryptedType } from '../../database/types/encrypted.type';

/**
 * One Proxmox VE endpoint (a cluster or a single node). Secrets live only in
 * encrypted columns, held here as ciphertexts and hidden from serialisation;
 * HostCredentials opens them where a connection needs them.
 */
@Entity({ tableName: 'proxmox_host' })
@Index({
  name: 'proxmox_host_name_lower_unique',
  expression:
    'create unique index "proxmox_host_name_lower_unique" on "proxmox_host" (lower("name"))',
})
@Index({
  name: 'proxmox_host_single_default',
  expression:
    'create unique index "proxmox_host_single_default" on "proxmox_host" ("is_default") where "is_default"',
})
// An exclusion constraint; declared as an index so that MikroORM knows the index behind it.
@Index({
  name: 'proxmox_host_vmid_disjoint',
  expression: `alter table "proxmox_host" add constraint "proxmox_host_vmid_disjoint" exclude using gist (int4range(vmid_min, vmid_max, '[]') with &&)`,
})
@Check({ name: 'proxmox_host_vmid_range', expression: 'vmid_min <= vmid_max' })
@Check({ name: 'proxmox_host_port_range', expression: 'port_min <= port_max' })
@Check({
  name: 'proxmox_host_tls_pinned',
  expression: 'tls_insecure or tls_fingerprint is not null or ca_cert is not null',
})
@Check({
  name: 'proxmox_host_ssh_pinned',
  expression: 'ssh_insecure or ssh_host_key_fingerprint is not null',
})
@Check({ name: 'proxmox_host_api_port', expression: 'port >= 1 and port <= 65535' })
@Check({ name: 'proxmox_host_ssh_port', expression: 'ssh_port >= 1 and ssh_port <= 65535' })
@Check({ name: 'proxmox_host_port_bounds', expression: 'port_min >= 1 and port_max <= 65535' })
@Check({
  name: 'proxmox_host_vmid_bounds',
  expression: 'vmid_min >= 100 and vmid_max <= 999999999',
})
export class ProxmoxHost {
  [OptionalProps]?:
    | 'port'
    | 'tlsInsecure'
    | 'sshPort'
    | 'sshUser'
    | 'sshInsecure'
    | 'isDefault'
    | 'createdAt'
    | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 64 })
  name!: string;

  @Property({ type: 'string', length: 253 })
  host!: string;

  @Property({ type: 'integer' })
  port: number = 8006;

  @Property({ type: 'string', length: 128, nullable: true })
  tokenId: string | null = null;

  @Property({ type: EncryptedType, nullable: true, hidden: true })
  tokenSecret: Sealed | null = null;

  @Property({ type: 'string', length: 128, nullable: true })
  username: string | null = null;

  @Property({ type: EncryptedType, nullable: true, hidden: true })
  password: Sealed | null = null;

  @Property({ type: 'string', length: 95, nullable: true })
  tlsFingerprint: string | null = null;

  @Property({ type: 'text', nullable: true })
  caCert: string | null = null;

  @Property({ type: 'boolean' })
  tlsInsecure: boolean = false;

  @Property({ type: 'string', length: 253, nullable: true })
  sshHost: string | null = null;

  @Property({ type: 'integer' })
  sshPort: number = 22;

  @Property({ type: 'string', length: 64 })
  sshUser: string = 'root';

  @Property({ type: EncryptedType, nullable: true, hidden: true })
  sshPrivateKey: Sealed | null = null;

  @Property({ type: EncryptedType, nullable: true, hidden: true })
  sshPassword: Sealed | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  sshHostKeyFingerprint: string | null = null;

  @Property({ type: 'boolean' })
  sshInsecure: boolean = false;

  @Property({ type: 'string', length: 64 })
  storage!: string;

  @Property({ type: 'string', length: 64 })
  backupStorage!: string;

  @Property({ type: 'string', length: 32 })
  bridge!: string;

  @Property({ type: 'string', length: 255 })
  template!: string;

  @Property({ type: 'integer' })
  vmidMin!: number;

  @Property({ type: 'integer' })
  vmidMax!: number;

  @Property({ type: 'integer' })
  portMin!: number;

  @Property({ type: 'integer' })
  portMax!: number;

  @Property({ type: 'boolean' })
  isDefault: boolean = false;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', columnType: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
