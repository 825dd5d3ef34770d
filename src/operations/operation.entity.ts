import {
  Check,
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

export enum OperationType {
  Deploy = 'deploy',
  Start = 'start',
  Stop = 'stop',
  Restart = 'restart',
  Delete = 'delete',
  Clone = 'clone',
  Backup = 'backup',
  Restore = 'restore',
  BackupDelete = 'backup_delete',
  Adopt = 'adopt',
}

export enum OperationStatus {
  Queued = 'queued',
  Running = 'running',
  Succeeded = 'succeeded',
  Failed = 'failed',
}

/** An operation in one of these is the application's current one; at most one at a time. */
export const ACTIVE_OPERATION_STATUSES = [OperationStatus.Queued, OperationStatus.Running] as const;

export const DEFAULT_MAX_ATTEMPTS = 3;

/** What a request asked beyond its type, for the job to read (job data carries ids only). */
/** What a delete was asked to do beyond the default (job data carries ids only). */
export interface OperationOptions {
  /** Leave the application's backup archives in storage. */
  keepBackups?: boolean;
  /** An adopted application: destroy its container instead of unmanaging it. */
  destroy?: boolean;
}

/**
 * One piece of long-running work on an application, as the job runs it: the
 * step reached (so a retry resumes), attempts, and Proximity's wording of a
 * failure. Deleted with its application.
 */
@Entity({ tableName: 'operation' })
@Index({
  name: 'operation_one_active_per_application',
  expression: `create unique index "operation_one_active_per_application" on "operation" ("application_id") where "status" in ('queued', 'running')`,
})
@Index({
  name: 'operation_application_id_created_at_index',
  properties: ['application', 'createdAt'],
})
@Index({ name: 'operation_status_index', properties: ['status'] })
@Check({ name: 'operation_progress_range', expression: 'progress >= 0 and progress <= 100' })
@Check({ name: 'operation_attempts_range', expression: 'attempts >= 0 and max_attempts >= 1' })
export class Operation {
  [OptionalProps]?:
    | 'status'
    | 'step'
    | 'progress'
    | 'attempts'
    | 'maxAttempts'
    | 'error'
    | 'actorId'
    | 'idempotencyKey'
    | 'options'
    | 'createdAt'
    | 'startedAt'
    | 'finishedAt'
    | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Enum({ items: () => OperationType, nativeEnumName: 'operation_type' })
  type!: OperationType;

  @Enum({ items: () => OperationStatus, nativeEnumName: 'operation_status' })
  status: OperationStatus = OperationStatus.Queued;

  /** The last named step that completed or is running; null before the first. */
  @Property({ type: 'string', length: 64, nullable: true })
  step: string | null = null;

  @Property({ type: 'integer' })
  progress: number = 0;

  @Property({ type: 'integer' })
  attempts: number = 0;

  @Property({ type: 'integer' })
  maxAttempts: number = DEFAULT_MAX_ATTEMPTS;

  /** Proximity's own wording, never an upstream text. */
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @ManyToOne(() => Application, { ref: true, deleteRule: 'cascade' })
  application!: Ref<Application>;

  /** Who asked for it; a plain id (no foreign key), like the audit log. Null for the system. */
  @Property({ type: 'uuid', nullable: true })
  actorId: string | null = null;

  @Property({
    type: 'string',
    length: 128,
    nullable: true,
    unique: 'operation_idempotency_key_unique',
  })
  idempotencyKey: string | null = null;

  @Property({ type: 'json', nullable: true })
  options: OperationOptions | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  startedAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  finishedAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
