import {
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
import { Operation } from './operation.entity';

export enum LogLevel {
  Info = 'info',
  Warn = 'warn',
  Error = 'error',
}

/** One line of an application's log, written already redacted. */
@Entity({ tableName: 'deployment_log' })
@Index({ name: 'deployment_log_application_id_at_index', properties: ['application', 'at'] })
export class DeploymentLog {
  [OptionalProps]?: 'at' | 'operation' | 'step' | 'level';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => Application, { ref: true, deleteRule: 'cascade' })
  application!: Ref<Application>;

  @ManyToOne(() => Operation, { ref: true, nullable: true, deleteRule: 'set null', index: true })
  operation: Ref<Operation> | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  at: Date = new Date();

  @Enum({ items: () => LogLevel, nativeEnumName: 'log_level' })
  level: LogLevel = LogLevel.Info;

  @Property({ type: 'string', length: 64, nullable: true })
  step: string | null = null;

  @Property({ type: 'text' })
  message!: string;
}
