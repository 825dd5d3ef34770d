import {
  Entity,
  Enum,
  ManyToOne,
  OptionalProps,
  PrimaryKey,
  Property,
  type Ref,
} from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { Scope } from '../common/auth/principal';
import { User } from '../users/user.entity';

export const API_TOKEN_SCOPES: readonly Scope[] = ['read', 'write'];

/** A personal API token; only its SHA-256 digest is stored. */
@Entity({ tableName: 'api_token' })
export class ApiToken {
  [OptionalProps]?: 'scope' | 'lastUsedAt' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade', index: true })
  owner!: Ref<User>;

  @Property({ type: 'string', length: 80 })
  name!: string;

  @Property({ type: 'string', length: 64, unique: true, hidden: true })
  tokenHash!: string;

  @Enum({ items: [...API_TOKEN_SCOPES], nativeEnumName: 'api_token_scope' })
  scope: Scope = 'write';

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  lastUsedAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date = new Date();
}
