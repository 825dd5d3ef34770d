import { Injectable } from '@nestjs/common';
import { AuditAction } from '../audit/audit-actions';
import { AuditOutcome } from '../audit/audit-entry.entity';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../common/auth/actor';
import type { Principal } from '../common/auth/principal';
import { DomainError } from '../common/errors/domain-error';
import { SessionsService } from '../sessions/sessions.service';
import { PasswordHasher } from '../users/password-hasher';
import type { User } from '../users/user.entity';
import { UserDto } from '../users/users.dto';
import { UsersService } from '../users/users.service';
import { AccessTokens } from './access-tokens';
import type { TokenPairDto } from './auth.dto';
import { LoginThrottle } from './login-throttle';

const BAD_CREDENTIALS = 'Invalid username or password';
const BAD_REFRESH = 'Invalid or expired refresh token';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly accessTokens: AccessTokens,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditService,
  ) {}

  async login(username: string, password: string, ip: string): Promise<TokenPairDto> {
    await this.throttle.attempt(username, ip);
    const user = await this.users.findByUsername(username);
    const valid = user
      ? await this.hasher.verify(user.passwordHash, password)
      : await this.hasher.verifyNothing(password);
    if (!user || !valid || user.disabled) {
      await this.audit.record({
        actorId: null,
        action: AuditAction.Login,
        resourceType: 'user',
        resourceId: user?.id ?? null,
        ip,
        outcome: AuditOutcome.Failure,
      });
      // Same answer for unknown user, wrong password and disabled account.
      throw DomainError.unauthenticated(BAD_CREDENTIALS);
    }
    await this.throttle.reset(username, ip);
    await this.audit.record({
      actorId: user.id,
      action: AuditAction.Login,
      resourceType: 'user',
      resourceId: user.id,
      ip,
    });
    return this.pairFor(user, await this.sessions.issue(user));
  }

  /**
   * Changes the caller's own password. A wrong current password counts toward
   * the login lockout of the same username and address: a stolen access token
   * must not become an unlimited password oracle.
   */
  async changePassword(
    principal: Principal,
    currentPassword: string,
    newPassword: string,
    actor: Actor,
  ): Promise<void> {
    const ip = actor.ip ?? 'unknown';
    await this.throttle.attempt(principal.username, ip);
    await this.users.changeOwnPassword(principal.userId, currentPassword, newPassword, actor);
    await this.throttle.reset(principal.username, ip);
  }

  async refresh(refreshToken: string, ip: string | null): Promise<TokenPairDto> {
    const result = await this.sessions.rotate(refreshToken);
    if (result.kind === 'reused') {
      await this.audit.record({
        actorId: result.userId,
        action: AuditAction.RefreshReuse,
        resourceType: 'user',
        resourceId: result.userId,
        ip,
        outcome: AuditOutcome.Failure,
      });
    }
    if (result.kind !== 'rotated') throw DomainError.unauthenticated(BAD_REFRESH);
    return this.pairFor(result.user, result.refreshToken);
  }

  async logout(principal: Principal, refreshToken: string, actor: Actor): Promise<void> {
    if (await this.sessions.revokeOne(principal.userId, refreshToken)) {
      await this.audit.record({
        actorId: principal.userId,
        action: AuditAction.Logout,
        resourceType: 'user',
        resourceId: principal.userId,
        ip: actor.ip,
      });
    }
  }

  private async pairFor(user: User, refreshToken: string): Promise<TokenPairDto> {
    return {
      accessToken: await this.accessTokens.sign(user),
      refreshToken,
      expiresIn: this.accessTokens.ttlSeconds,
      user: UserDto.from(user),
    };
  }
}
