import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AuditAction } from '../audit/audit-actions';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../common/auth/actor';
import type { Principal } from '../common/auth/principal';
import { DomainError } from '../common/errors/domain-error';
import { pageOf, type Page, type PaginationQuery } from '../common/pagination/pagination';
import { tokenDigest } from '../crypto/token-digest';
import { User } from '../users/user.entity';
import { ApiToken } from './api-token.entity';
import { API_TOKEN_DEFAULT_DAYS, type CreateApiTokenBody } from './api-tokens.dto';

/** Tells a personal token from a JWT at a glance (and to secret scanners). */
export const API_TOKEN_PREFIX = 'prx_';
export const MAX_TOKENS_PER_USER = 50;
const DAY_MS = 86_400_000;
// Recording every use would turn each read request into a write.
const LAST_USED_RESOLUTION_MS = 60_000;

@Injectable()
export class ApiTokensService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
  ) {}

  async create(
    principal: Principal,
    body: CreateApiTokenBody,
    actor: Actor,
  ): Promise<{ entity: ApiToken; token: string }> {
    const token = API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const entity = await this.em.transactional(async (em) => {
      // The owner's row lock serialises creations, so count-then-insert cannot overshoot.
      const owner = await em.findOne(
        User,
        { id: principal.userId },
        { lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      if (!owner) throw DomainError.notFound('User');
      const live = await em.count(ApiToken, {
        owner: principal.userId,
        expiresAt: { $gt: new Date() },
      });
      if (live >= MAX_TOKENS_PER_USER) {
        throw DomainError.conflict(`at most ${MAX_TOKENS_PER_USER} live API tokens per user`);
      }
      return em.create(ApiToken, {
        owner,
        name: body.name,
        tokenHash: tokenDigest(token),
        expiresAt: new Date(Date.now() + (body.expiresInDays ?? API_TOKEN_DEFAULT_DAYS) * DAY_MS),
      });
    });
    await this.audit.record({
      actorId: principal.userId,
      action: AuditAction.TokenCreate,
      resourceType: 'api_token',
      resourceId: entity.id,
      ip: actor.ip,
    });
    return { entity, token };
  }

  async list(principal: Principal, query: PaginationQuery): Promise<Page<ApiToken>> {
    const [items, total] = await this.em.findAndCount(
      ApiToken,
      { owner: principal.userId },
      { orderBy: { createdAt: 'desc', id: 'desc' }, limit: query.perPage, offset: query.offset },
    );
    return pageOf(items, total, query);
  }

  async delete(principal: Principal, id: string, actor: Actor): Promise<void> {
    const deleted = await this.em.nativeDelete(ApiToken, { id, owner: principal.userId });
    if (deleted === 0) throw DomainError.notFound('API token');
    await this.audit.record({
      actorId: principal.userId,
      action: AuditAction.TokenDelete,
      resourceType: 'api_token',
      resourceId: id,
      ip: actor.ip,
    });
  }

  /** The owner of a live token, or null. */
  async resolve(token: string): Promise<User | null> {
    const em = this.em.fork();
    const row = await em.findOne(
      ApiToken,
      { tokenHash: tokenDigest(token), expiresAt: { $gt: new Date() } },
      { populate: ['owner'] },
    );
    if (!row) return null;
    const now = Date.now();
    if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await em.nativeUpdate(ApiToken, { id: row.id }, { lastUsedAt: new Date(now) });
    }
    return row.owner.getEntity();
  }

  pruneExpired(olderThan: Date): Promise<number> {
    return this.em.nativeDelete(ApiToken, { expiresAt: { $lt: olderThan } });
  }
}
