import {
  EntityManager,
  ForeignKeyConstraintViolationException,
  LockMode,
  UniqueConstraintViolationException,
} from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditAction } from '../audit/audit-actions';
import { AuditOutcome } from '../audit/audit-entry.entity';
import { AuditService } from '../audit/audit.service';
import { type Actor, actorId } from '../common/auth/actor';
import { DomainError } from '../common/errors/domain-error';
import { Lock, withLock } from '../database/locks';
import { pageOf, type Page, type PaginationQuery } from '../common/pagination/pagination';
import { SessionsService } from '../sessions/sessions.service';
import { PasswordHasher } from './password-hasher';
import { User, UserRole } from './user.entity';
import type { CreateUserBody, UpdateUserBody } from './users.dto';

export type UserAccessState = Pick<
  User,
  'id' | 'username' | 'role' | 'disabled' | 'credentialsVersion'
>;

interface UserAccessRow {
  id: string;
  username: string;
  role: UserRole;
  disabled: boolean;
  credentials_version: number;
}

export const USER_OWNS_APPLICATIONS = 'the user owns applications; delete them first';

@Injectable()
export class UsersService {
  constructor(
    private readonly em: EntityManager,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
  ) {}

  findById(id: string): Promise<User | null> {
    return this.em.findOne(User, { id });
  }

  /**
   * What the access guard checks on every request, read as a plain row: an
   * entity's hydration and identity map cost more than the query here.
   */
  async accessStateOf(id: string): Promise<UserAccessState | null> {
    const [row] = await this.em
      .getConnection()
      .execute<UserAccessRow[]>(
        'select id, username, role, disabled, credentials_version from user_account where id = ?',
        [id],
      );
    return row
      ? {
          id: row.id,
          username: row.username,
          role: row.role,
          disabled: row.disabled,
          credentialsVersion: row.credentials_version,
        }
      : null;
  }

  findByUsername(username: string): Promise<User | null> {
    return this.em
      .createQueryBuilder(User)
      .where('lower(username) = lower(?)', [username])
      .getSingleResult();
  }

  async get(id: string): Promise<User> {
    const user = await this.findById(id);
    if (!user) throw DomainError.notFound('User');
    return user;
  }

  async list(query: PaginationQuery): Promise<Page<User>> {
    const [items, total] = await this.em.findAndCount(
      User,
      {},
      { orderBy: { createdAt: 'asc', id: 'asc' }, limit: query.perPage, offset: query.offset },
    );
    return pageOf(items, total, query);
  }

  async create(body: CreateUserBody, actor: Actor): Promise<User> {
    const user = this.em.create(User, {
      username: body.username,
      passwordHash: await this.hasher.hash(body.password),
      role: body.role,
    });
    try {
      await this.em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) {
        this.em.clear();
        throw usernameTaken(body.username);
      }
      throw err;
    }
    await this.recordChange(AuditAction.UserCreate, user.id, actor);
    return user;
  }

  async update(id: string, body: UpdateUserBody, actor: Actor): Promise<User> {
    const passwordHash = body.password ? await this.hasher.hash(body.password) : undefined;
    const user = await withLock(Lock.UserChange, this.em, async (em) => {
      const target = await em.findOne(User, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!target) throw DomainError.notFound('User');
      const losesAdmin =
        target.role === UserRole.Admin &&
        !target.disabled &&
        ((body.role !== undefined && body.role !== UserRole.Admin) || body.disabled === true);
      if (losesAdmin) await this.assertAnotherActiveAdmin(em, target.id, 'demote or disable');
      if (body.role !== undefined) target.role = body.role;
      if (body.disabled !== undefined) target.disabled = body.disabled;
      if (passwordHash) {
        target.passwordHash = passwordHash;
        target.credentialsVersion += 1;
        await this.sessions.revokeAll(target.id, em);
      }
      if (body.disabled === true) await this.sessions.revokeAll(target.id, em);
      return target;
    });
    await this.recordChange(AuditAction.UserUpdate, user.id, actor);
    return user;
  }

  async delete(id: string, actor: Actor): Promise<void> {
    try {
      await withLock(Lock.UserChange, this.em, async (em) => {
        const target = await em.findOne(User, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (!target) throw DomainError.notFound('User');
        if (target.role === UserRole.Admin && !target.disabled) {
          await this.assertAnotherActiveAdmin(em, target.id, 'delete');
        }
        em.remove(target);
        await em.flush();
      });
    } catch (err) {
      // The owner key of applications refuses the delete: it decides, even against a deploy in flight.
      if (err instanceof ForeignKeyConstraintViolationException) {
        this.em.clear();
        throw DomainError.conflict(USER_OWNS_APPLICATIONS);
      }
      throw err;
    }
    await this.recordChange(AuditAction.UserDelete, id, actor);
  }

  async changeOwnPassword(
    userId: string,
    currentPassword: string,
    newPassword: string,
    actor: Actor,
  ): Promise<void> {
    const user = await this.get(userId);
    if (!(await this.hasher.verify(user.passwordHash, currentPassword))) {
      await this.audit.record({
        actorId: userId,
        action: AuditAction.PasswordChange,
        resourceType: 'user',
        resourceId: userId,
        ip: actor.ip,
        outcome: AuditOutcome.Failure,
      });
      throw DomainError.invalid('currentPassword', 'currentPassword is wrong');
    }
    const hash = await this.hasher.hash(newPassword);
    await this.em.transactional(async (em) => {
      const target = await em.findOne(
        User,
        { id: userId },
        { lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      if (!target) throw DomainError.notFound('User');
      target.passwordHash = hash;
      // Access JWTs issued before this moment stop working (see User.credentialsVersion).
      target.credentialsVersion += 1;
      await this.sessions.revokeAll(userId, em);
    });
    await this.recordChange(AuditAction.PasswordChange, userId, actor);
  }

  /**
   * Creates the first admin when no user exists. The advisory lock makes two
   * processes starting at once agree on one admin.
   */
  async bootstrapAdmin(username: string, password: string): Promise<User | null> {
    const passwordHash = await this.hasher.hash(password);
    return withLock(Lock.AdminBootstrap, this.em.fork(), async (em) => {
      if ((await em.count(User, {})) > 0) return null;
      const admin = em.create(User, { username, passwordHash, role: UserRole.Admin });
      await em.flush();
      return admin;
    });
  }

  private async assertAnotherActiveAdmin(
    em: EntityManager,
    exceptId: string,
    verb: string,
  ): Promise<void> {
    const others = await em.count(User, {
      role: UserRole.Admin,
      disabled: false,
      id: { $ne: exceptId },
    });
    if (others === 0) throw DomainError.conflict(`cannot ${verb} the last active admin`);
  }

  private recordChange(action: string, userId: string, actor: Actor): Promise<void> {
    return this.audit.record({
      actorId: actorId(actor),
      action,
      resourceType: 'user',
      resourceId: userId,
      ip: actor.ip,
    });
  }
}

function usernameTaken(username: string): DomainError {
  return DomainError.conflict(`username '${username}' is taken`);
}
