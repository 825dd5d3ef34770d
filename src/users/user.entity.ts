import { Entity, Enum, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export enum UserRole {
  Admin = 'admin',
  User = 'user',
}

@Entity({ tableName: 'user_account' })
@Index({
  name: 'user_account_username_lower_unique',
  expression:
    'create unique index "user_account_username_lower_unique" on "user_account" (lower("username"))',
})
export class User {
  [OptionalProps]?: 'role' | 'disabled' | 'credentialsVersion' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 64 })
  username!: string;

  @Property({ type: 'text', hidden: true })
  passwordHash!: string;

  @Enum({ items: () => UserRole, nativeEnumName: 'user_role' })
  role: UserRole = UserRole.User;

  @Property({ type: 'boolean' })
  disabled: boolean = false;

  /**
   * Moves on with every password change; access JWTs carry the version they
   * were issued under, so older ones stop working. A counter, not a time:
   * no clock granularity or skew between replicas to get wrong.
   */
  @Property({ type: 'integer' })
  credentialsVersion: number = 0;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', columnType: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
