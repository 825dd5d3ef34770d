import {
  Check,
  Collection,
  Entity,
  EntityRepositoryType,
  Enum,
  Index,
  ManyToOne,
  OneToMany,
  OptionalProps,
  PrimaryKey,
  Property,
  Unique,
  type Ref,
} from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { Sealed } from '../crypto/keyring';
import { EncryptedType } from '../database/types/encrypted.type';
import { ProxmoxHost } from '../proxmox/hosts/proxmox-host.entity';
import { PortAllocation } from '../ports/port-allocation.entity';
import { User } from '../users/user.entity';
import { ApplicationRepository } from './application.repository';
import { ApplicationStatus, RELEASED_STATUSES_SQL } from './application-status';

/**
 * One deployed (or adopted) catalog app: an LXC container on a node of a
 * host. The root password and the secret environment values are stored only
 * sealed; the names of the secret variables are kept in the clear so that a
 * read shows them masked without decrypting anything.
 */
@Entity({ tableName: 'application', repository: () => ApplicationRepository })
@Index({
  name: 'application_hostname_live_unique',
  expression: `create unique index "application_hostname_live_unique" on "application" (lower("hostname")) where "status" not in (${RELEASED_STATUSES_SQL})`,
})
@Unique({ name: 'application_host_id_vmid_unique', properties: ['host', 'vmid'] })
@Index({ name: 'application_owner_id_created_at_index', properties: ['owner', 'createdAt'] })
@Index({ name: 'application_created_at_id_index', properties: ['createdAt', 'id'] })
@Index({ name: 'application_status_index', properties: ['status'] })
@Index({ name: 'application_host_id_node_index', properties: ['host', 'node'] })
@Index({ name: 'application_cloned_from_id_index', properties: ['clonedFrom'] })
@Check({
  name: 'application_resources_positive',
  expression: 'cores >= 1 and memory_mb >= 1 and disk_gb >= 1 and swap_mb >= 0',
})
export class Application {
  [EntityRepositoryType]?: ApplicationRepository;

  [OptionalProps]?:
    | 'status'
    | 'vmid'
    | 'environment'
    | 'secretEnvironment'
    | 'secretEnvironmentKeys'
    | 'rootPassword'
    | 'ipAddress'
    | 'url'
    | 'adopted'
    | 'lastError'
    | 'clonedFrom'
    | 'version'
    | 'createdAt'
    | 'updatedAt'
    | 'ports'
    | 'catalogId';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { ref: true, deleteRule: 'restrict' })
  owner!: Ref<User>;

  @ManyToOne(() => ProxmoxHost, { ref: true, deleteRule: 'restrict' })
  host!: Ref<ProxmoxHost>;

  @Property({ type: 'string', length: 64 })
  node!: string;

  /** Null once released (a deploy that finally failed gives its id back). */
  @Property({ type: 'integer', nullable: true })
  vmid: number | null = null;

  @Property({ type: 'string', length: 63 })
  hostname!: string;

  @Property({ type: 'string', length: 80 })
  name!: string;

  /** Null for an adopted container, which no catalog app describes. */
  @Property({ type: 'string', length: 64, nullable: true })
  catalogId: string | null = null;

  @Enum({ items: () => ApplicationStatus, nativeEnumName: 'application_status' })
  status: ApplicationStatus = ApplicationStatus.Deploying;

  @Property({ type: 'integer' })
  cores!: number;

  @Property({ type: 'integer' })
  memoryMb!: number;

  @Property({ type: 'integer' })
  diskGb!: number;

  @Property({ type: 'integer' })
  swapMb!: number;

  /** The variables that are not secret, in the clear. */
  @Property({ type: 'json' })
  environment: Record<string, string> = {};

  /** A sealed JSON object of the secret variables' values. */
  @Property({ type: EncryptedType, nullable: true, hidden: true })
  secretEnvironment: Sealed | null = null;

  @Property({ type: 'json' })
  secretEnvironmentKeys: string[] = [];

  /** Null for an adopted container, whose password Proximity never knew. */
  @Property({ type: EncryptedType, nullable: true, hidden: true })
  rootPassword: Sealed | null = null;

  @Property({ type: 'string', length: 45, nullable: true })
  ipAddress: string | null = null;

  @Property({ type: 'string', length: 300, nullable: true })
  url: string | null = null;

  @Property({ type: 'boolean' })
  adopted: boolean = false;

  /** Proximity's own wording of the last failure, never an upstream text. */
  @Property({ type: 'text', nullable: true })
  lastError: string | null = null;

  /**
   * The application this one was cloned from, while both exist: a clone under
   * way keeps its source from lifecycle actions and removal.
   */
  @ManyToOne(() => Application, { ref: true, nullable: true, deleteRule: 'set null' })
  clonedFrom: Ref<Application> | null = null;

  @OneToMany(() => PortAllocation, (allocation) => allocation.application, {
    orderBy: { port: 'asc', protocol: 'asc' },
  })
  ports = new Collection<PortAllocation>(this);

  @Property({ type: 'integer', version: true })
  version: number = 1;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', columnType: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
