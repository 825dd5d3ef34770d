import { Injectable } from '@nestjs/common';
import type { Principal } from '../common/auth/principal';
import { UsersService, type UserAccessState } from '../users/users.service';
import { AccessTokens } from './access-tokens';
import { API_TOKEN_PREFIX, ApiTokensService } from './api-tokens.service';

/**
 * Turns a bearer token into the caller. The user row is read on every
 * request, so disabling or demoting a user, or changing its password, takes
 * effect at once.
 */
@Injectable()
export class PrincipalResolver {
  constructor(
    private readonly accessTokens: AccessTokens,
    private readonly apiTokens: ApiTokensService,
    private readonly users: UsersService,
  ) {}

  async resolve(token: string): Promise<Principal | null> {
    if (token.startsWith(API_TOKEN_PREFIX)) {
      const resolved = await this.apiTokens.resolve(token);
      if (!resolved || resolved.owner.disabled) return null;
      return principalOf(resolved.owner, 'api_token', resolved.scope);
    }
    const subject = await this.accessTokens.verify(token);
    if (!subject) return null;
    const user = await this.users.accessStateOf(subject.userId);
    if (!user || user.disabled) return null;
    if (user.credentialsVersion !== subject.credentialsVersion) return null;
    return principalOf(user, 'jwt', 'write');
  }
}

function principalOf(
  user: UserAccessState,
  authMethod: Principal['authMethod'],
  scope: Principal['scope'],
): Principal {
  return { userId: user.id, username: user.username, role: user.role, authMethod, scope };
}
