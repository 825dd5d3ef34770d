import { Entity, Enum, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export enum AuditOutcome {
  Success = 'success',
  Failure = 'failure',
}

/**
 * An append-only record of a security-relevant action. The actor is kept as a
 * plain id (no foreign key) so the trail outlives the user it names.
 */
@Entity({ tableName: 'audit_entry' })
@Index({ properties: ['at'] })
@Index({ properties: ['actorId', 'at'] })
@Index({ properties: ['action', 'at'] })
export class AuditEntry {
  [OptionalProps]?: 'at' | 'actorId' | 'resourceId' | 'ip';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  at: Date = new Date();

  @Property({ type: 'uuid', nullable: true })
  actorId: string | null = null;

  @Property({ type: 'string', length: 64 })
  action!: string;

  @Property({ type: 'string', length: 64 })
  resourceType!: string;

  @Property({ type: 'string', length: 128, nullable: true })
  resourceId: string | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  ip: string | null = null;

  @Enum({ items: () => AuditOutcome, nativeEnumName: 'audit_outcome' })
  outcome!: AuditOutcome;
}
