import {
  Entity,
  Enum,
  ManyToOne,
  OptionalProps,
  PrimaryKey,
  Property,
  Unique,
  type Ref,
} from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { ProxmoxHost } from './proxmox-host.entity';

export enum NodeStatus {
  Online = 'online',
  Offline = 'offline',
  Unknown = 'unknown',
}

/** A node of a host's cluster as the last sync saw it; never deleted, only marked offline. */
@Entity({ tableName: 'proxmox_node' })
@Unique({ properties: ['host', 'name'] })
export class ProxmoxNode {
  [OptionalProps]?:
    'status' | 'address' | 'cpus' | 'memoryTotal' | 'memoryFree' | 'diskFree' | 'syncedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => ProxmoxHost, { ref: true, deleteRule: 'cascade', index: true })
  host!: Ref<ProxmoxHost>;

  @Property({ type: 'string', length: 64 })
  name!: string;

  @Enum({ items: () => NodeStatus, nativeEnumName: 'node_status' })
  status: NodeStatus = NodeStatus.Unknown;

  /** What the node's name resolves to in the cluster: applications on it answer there. */
  @Property({ type: 'string', length: 45, nullable: true })
  address: string | null = null;

  @Property({ type: 'integer' })
  cpus: number = 0;

  @Property({ type: 'bigint', columnType: 'bigint' })
  memoryTotal: number = 0;

  @Property({ type: 'bigint', columnType: 'bigint' })
  memoryFree: number = 0;

  @Property({ type: 'bigint', columnType: 'bigint' })
  diskFree: number = 0;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  syncedAt: Date = new Date();
}
