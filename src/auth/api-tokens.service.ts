import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AuditAction } from '../audit/audit-actions';
import { AuditService } from '../audit/audit.service';
import { type Actor, actorId } from '../common/auth/actor';
import type { Scope } from '../common/auth/principal';
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

/** The owner and scope of a live token. */
export interface ResolvedApiToken {
  owner: User;
  scope: Scope;
}

/** Personal API tokens. Every method takes the owner's id: callers decide whose tokens these are. */
@Injectable()
export class ApiTokensService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
  ) {}

  async create(
    ownerId: string,
    body: CreateApiTokenBody,
    actor: Actor,
  ): Promise<{ entity: ApiToken; token: string }> {
    const token = API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const entity = await this.em.transactional(async (em) => {
      // The owner's row lock serialises creations, so count-then-insert cannot overshoot.
      const owner = await em.findOne(
        User,
        { id: ownerId },
        { lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      if (!owner) throw DomainError.notFound('User');
      const live = await em.count(ApiToken, { owner: ownerId, expiresAt: { $gt: new Date() } });
      if (live >= MAX_TOKENS_PER_USER) {
        throw DomainError.conflict(`at most ${MAX_TOKENS_PER_USER} live API tokens per user`);
      }
      return em.create(ApiToken, {
        owner,
        name: body.name,
        tokenHash: tokenDigest(token),
        scope: body.scope ?? 'write',
        expiresAt: new Date(Date.now() + (body.expiresInDays ?? API_TOKEN_DEFAULT_DAYS) * DAY_MS),
      });
    });
    await this.audit.record({
      actorId: actorId(actor),
      action: AuditAction.TokenCreate,
      resourceType: 'api_token',
      resourceId: entity.id,
      ip: actor.ip,
    });
    return { entity, token };
  }

  async list(ownerId: string, query: PaginationQuery): Promise<Page<ApiToken>> {
    const [items, total] = await this.em.findAndCount(
      ApiToken,
      { owner: ownerId },
      { orderBy: { createdAt: 'desc', id: 'desc' }, limit: query.perPage, offset: query.offset },
    );
    return pageOf(items, total, query);
  }

  /** An admin's view of any user's tokens; an unknown user is a 404, not an empty page. */
  async listOfUser(userId: string, query: PaginationQuery): Promise<Page<ApiToken>> {
    if ((await this.em.count(User, { id: userId })) === 0) throw DomainError.notFound('User');
    return this.list(userId, query);
  }

  /** Revokes a token of that owner; a token of anybody else is as missing as an unknown one. */
  async delete(ownerId: string, id: string, actor: Actor): Promise<void> {
    const deleted = await this.em.nativeDelete(ApiToken, { id, owner: ownerId });
    if (deleted === 0) throw DomainError.notFound('API token');
    await this.audit.record({
      actorId: actorId(actor),
      action: AuditAction.TokenDelete,
      resourceType: 'api_token',
      resourceId: id,
      ip: actor.ip,
    });
  }

  /** The owner and scope of a live token, or null. */
  async resolve(token: string): Promise<ResolvedApiToken | null> {
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
    return { owner: row.owner.getEntity(), scope: row.scope };
  }

  pruneExpired(olderThan: Date): Promise<number> {
    return this.em.nativeDelete(ApiToken, { expiresAt: { $lt: olderThan } });
  }
}
