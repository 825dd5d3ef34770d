import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { tokenDigest } from '../crypto/token-digest';
import { AppConfig } from '../config/app-config';
import { User } from '../users/user.entity';
import { RefreshToken } from './refresh-token.entity';

export type RotationResult =
  | { kind: 'rotated'; user: User; refreshToken: string }
  | { kind: 'reused'; userId: string }
  | { kind: 'invalid' };

/** Refresh tokens: issue, rotate with reuse detection, revoke. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly em: EntityManager,
    private readonly config: AppConfig,
  ) {}

  async issue(user: User, familyId: string = randomUUID(), em = this.em): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    em.create(RefreshToken, {
      user,
      tokenHash: tokenDigest(token),
      familyId,
      expiresAt: new Date(Date.now() + this.config.auth.refreshTtlSeconds * 1000),
    });
    await em.flush();
    return token;
  }

  /**
   * Swaps a live refresh token for a new one of the same family. A token that
   * was already rotated or revoked is a replay: the whole family dies.
   */
  async rotate(presented: string): Promise<RotationResult> {
    return this.em.transactional(async (em) => {
      const row = await em.findOne(
        RefreshToken,
        { tokenHash: tokenDigest(presented) },
        { lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      if (!row) return { kind: 'invalid' } as const;
      if (row.revokedAt) {
        await em.nativeUpdate(
          RefreshToken,
          { familyId: row.familyId, revokedAt: null },
          { revokedAt: new Date() },
        );
        return { kind: 'reused', userId: row.user.id } as const;
      }
      if (row.expiresAt.getTime() <= Date.now()) return { kind: 'invalid' } as const;
      const user = await em.findOne(User, { id: row.user.id });
      if (!user || user.disabled) return { kind: 'invalid' } as const;
      row.revokedAt = new Date();
      const refreshToken = await this.issue(user, row.familyId, em);
      return { kind: 'rotated', user, refreshToken } as const;
    });
  }

  /** Revokes one token if it belongs to the user; says whether it did. */
  async revokeOne(userId: string, presented: string): Promise<boolean> {
    const count = await this.em.nativeUpdate(
      RefreshToken,
      { tokenHash: tokenDigest(presented), user: userId, revokedAt: null },
      { revokedAt: new Date() },
    );
    return count > 0;
  }

  async revokeAll(userId: string, em = this.em): Promise<void> {
    await em.nativeUpdate(
      RefreshToken,
      { user: userId, revokedAt: null },
      { revokedAt: new Date() },
    );
  }

  /** Drops rows nobody can use any more; run by the maintenance worker. */
  async pruneExpired(olderThan: Date): Promise<number> {
    return this.em.nativeDelete(RefreshToken, { expiresAt: { $lt: olderThan } });
  }
}
