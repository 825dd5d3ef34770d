import {
  Check,
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
import { PROTOCOLS, type Protocol } from '../catalog/catalog-app';
import { Application } from '../applications/application.entity';
import { ProxmoxHost } from '../proxmox/hosts/proxmox-host.entity';

export enum PortState {
  /** Allocated; no forwarding rule programmed yet. */
  Reserved = 'reserved',
  /** The node forwards the public port to the container. */
  Forwarded = 'forwarded',
}

/**
 * A public port of a host's pool held by an application. Releasing deletes
 * the row, so the unique constraint frees the port at the same moment.
 */
@Entity({ tableName: 'port_allocation' })
@Unique({
  name: 'port_allocation_host_id_port_protocol_unique',
  properties: ['host', 'port', 'protocol'],
})
@Check({ name: 'port_allocation_port_range', expression: 'port >= 1 and port <= 65535' })
export class PortAllocation {
  [OptionalProps]?: 'state' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => ProxmoxHost, { ref: true, deleteRule: 'restrict' })
  host!: Ref<ProxmoxHost>;

  @Property({ type: 'integer' })
  port!: number;

  @Enum({ items: [...PROTOCOLS], nativeEnumName: 'port_protocol' })
  protocol!: Protocol;

  @ManyToOne(() => Application, { ref: true, deleteRule: 'cascade', index: true })
  application!: Ref<Application>;

  /** The catalog's name of the port ("http"). */
  @Property({ type: 'string', length: 64 })
  name!: string;

  @Property({ type: 'integer' })
  containerPort!: number;

  @Enum({ items: () => PortState, nativeEnumName: 'port_state' })
  state: PortState = PortState.Reserved;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date = new Date();
}
