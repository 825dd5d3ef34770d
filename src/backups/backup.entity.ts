import {
  BigIntType,
  Entity,
  Enum,
  Index,
  ManyToOne,
  OptionalProps,
  PrimaryKey,
  Property,
  type Ref,
} from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { Application } from '../applications/application.entity';
import { Operation } from '../operations/operation.entity';

export enum BackupStatus {
  Creating = 'creating',
  Completed = 'completed',
  Failed = 'failed',
  Restoring = 'restoring',
  Deleting = 'deleting',
}

export enum BackupMode {
  Snapshot = 'snapshot',
  Suspend = 'suspend',
  Stop = 'stop',
}

export enum BackupCompression {
  Zstd = 'zstd',
  Gzip = 'gzip',
  Lzo = 'lzo',
}

/** Statuses an operation holds; each ends in completed or failed (or the row deleted). */
export const TRANSITIONAL_BACKUP_STATUSES: readonly BackupStatus[] = [
  BackupStatus.Creating,
  BackupStatus.Restoring,
  BackupStatus.Deleting,
];

export const NOTES_MAX_LENGTH = 1000;

/**
 * One vzdump archive of an application's container, from the request on:
 * `volid` is known once the backup task has written it. Deleted with its
 * application (the archive itself only by an explicit delete).
 */
@Entity({ tableName: 'backup' })
@Index({ name: 'backup_application_id_status_index', properties: ['application', 'status'] })
@Index({
  name: 'backup_application_id_created_at_index',
  properties: ['application', 'createdAt'],
})
export class Backup {
  [OptionalProps]?:
    | 'status'
    | 'volid'
    | 'sizeBytes'
    | 'notes'
    | 'error'
    | 'scheduled'
    | 'operation'
    | 'taskUpid'
    | 'startAfterRestore'
    | 'createdAt'
    | 'completedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => Application, { ref: true, deleteRule: 'cascade' })
  application!: Ref<Application>;

  @Enum({ items: () => BackupStatus, nativeEnumName: 'backup_status' })
  status: BackupStatus = BackupStatus.Creating;

  @Enum({ items: () => BackupMode, nativeEnumName: 'backup_mode' })
  mode!: BackupMode;

  @Enum({ items: () => BackupCompression, nativeEnumName: 'backup_compression' })
  compress!: BackupCompression;

  /** The archive's volume id, e.g. `local:backup/vzdump-lxc-100-….tar.zst`. */
  @Property({ type: 'string', length: 255, nullable: true })
  volid: string | null = null;

  @Property({ type: new BigIntType('number'), nullable: true })
  sizeBytes: number | null = null;

  @Property({ type: 'string', length: NOTES_MAX_LENGTH, nullable: true })
  notes: string | null = null;

  /** Proximity's own wording of the last failure, never an upstream text. */
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @Property({ type: 'boolean' })
  scheduled: boolean = false;

  /** The catalog app's version the application ran when it was backed up. */
  @Property({ type: 'string', length: 64 })
  catalogVersion!: string;

  /** The current or last operation on this backup. */
  @ManyToOne(() => Operation, { ref: true, nullable: true, deleteRule: 'set null' })
  operation: Ref<Operation> | null = null;

  /** The vzdump task that writes the archive: a retry waits on it instead of starting another. */
  @Property({ type: 'string', length: 255, nullable: true })
  taskUpid: string | null = null;

  /** During a restore: whether the application ran before it, so it runs after it. */
  @Property({ type: 'boolean', nullable: true })
  startAfterRestore: boolean | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  completedAt: Date | null = null;
}
