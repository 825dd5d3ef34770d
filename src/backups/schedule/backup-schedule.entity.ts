import {
  Check,
  Entity,
  Enum,
  OneToOne,
  OptionalProps,
  PrimaryKey,
  Property,
  type Ref,
} from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { Application } from '../../applications/application.entity';
import { BackupCompression, BackupMode } from '../backup.entity';

/**
 * When an application is backed up by itself, and how many of those backups
 * it keeps. At most one per application; deleted with it.
 */
@Entity({ tableName: 'backup_schedule' })
@Check({
  name: 'backup_schedule_keep_last_range',
  expression: 'keep_last >= 1 and keep_last <= 100',
})
export class BackupSchedule {
  [OptionalProps]?: 'enabled' | 'lastTickAt' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @OneToOne(() => Application, {
    ref: true,
    owner: true,
    deleteRule: 'cascade',
    unique: 'backup_schedule_application_id_unique',
  })
  application!: Ref<Application>;

  /** Five fields (or six, seconds first), read in UTC. */
  @Property({ type: 'string', length: 120 })
  cron!: string;

  @Property({ type: 'integer' })
  keepLast!: number;

  @Enum({ items: () => BackupMode, nativeEnumName: 'backup_mode' })
  mode!: BackupMode;

  @Enum({ items: () => BackupCompression, nativeEnumName: 'backup_compression' })
  compress!: BackupCompression;

  @Property({ type: 'boolean' })
  enabled: boolean = true;

  /**
   * The last tick a worker claimed: a tick runs when this moves forward, so
   * a tick delivered twice (or by two workers) starts one backup.
   */
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  lastTickAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', columnType: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
