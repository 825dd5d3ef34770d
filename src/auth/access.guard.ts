import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ACCESS_KEY, SESSION_ONLY_KEY, type AccessLevel } from '../common/auth/access.decorators';
import type { Principal } from '../common/auth/principal';
import { DomainError, ErrorCode } from '../common/errors/domain-error';
import { UserRole } from '../users/user.entity';
import { PrincipalResolver } from './principal-resolver';

// The scheme word is case-insensitive (RFC 9110 §11.1).
const BEARER = /^Bearer +([^\s]{1,2048})$/i;
const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * The one global guard: default-deny. A route is open only when it says
 * @Public(); @AdminOnly() adds the role check (403 for plain users),
 * @SessionOnly() refuses personal API tokens, and a read-scoped token may
 * only read.
 * Only the Authorization header is read: tokens in query strings or bodies
 * end up in logs and browser history.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly resolver: PrincipalResolver,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const level = this.metadata<AccessLevel>(context, ACCESS_KEY) ?? 'user';
    if (level === 'public') return true;
    const req = context.switchToHttp().getRequest<Request>();
    const match = BEARER.exec(req.headers.authorization ?? '');
    const principal = match ? await this.resolver.resolve(match[1]) : null;
    if (!principal) throw DomainError.unauthenticated();
    req.principal = principal;
    this.assertCredentialAllows(principal, req.method, context);
    if (level === 'admin' && principal.role !== UserRole.Admin) {
      throw new DomainError(ErrorCode.Forbidden, 'Admins only');
    }
    return true;
  }

  private assertCredentialAllows(
    principal: Principal,
    method: string,
    context: ExecutionContext,
  ): void {
    if (principal.authMethod !== 'jwt' && this.metadata<boolean>(context, SESSION_ONLY_KEY)) {
      throw new DomainError(ErrorCode.Forbidden, 'Only a login session may do this');
    }
    if (principal.scope === 'read' && !READ_METHODS.has(method)) {
      throw new DomainError(ErrorCode.Forbidden, 'This API token may only read');
    }
  }

  private metadata<T>(context: ExecutionContext, key: string): T | undefined {
    return this.reflector.getAllAndOverride<T | undefined>(key, [
      context.getHandler(),
      context.getClass(),
    ]);
  }
}
