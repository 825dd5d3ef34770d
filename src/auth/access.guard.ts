import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ACCESS_KEY, type AccessLevel } from '../common/auth/access.decorators';
import { DomainError, ErrorCode } from '../common/errors/domain-error';
import { UserRole } from '../users/user.entity';
import { PrincipalResolver } from './principal-resolver';

// The scheme word is case-insensitive (RFC 9110 §11.1).
const BEARER = /^Bearer +([^\s]{1,2048})$/i;

/**
 * The one global guard: default-deny. A route is open only when it says
 * @Public(); @AdminOnly() adds the role check (403 for plain users).
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
    const level = this.levelOf(context);
    if (level === 'public') return true;
    const req = context.switchToHttp().getRequest<Request>();
    const match = BEARER.exec(req.headers.authorization ?? '');
    const principal = match ? await this.resolver.resolve(match[1]) : null;
    if (!principal) throw DomainError.unauthenticated();
    req.principal = principal;
    if (level === 'admin' && principal.role !== UserRole.Admin) {
      throw new DomainError(ErrorCode.Forbidden, 'Admins only');
    }
    return true;
  }

  private levelOf(context: ExecutionContext): AccessLevel {
    return (
      this.reflector.getAllAndOverride<AccessLevel | undefined>(ACCESS_KEY, [
        context.getHandler(),
        context.getClass(),
      ]) ?? 'user'
    );
  }
}
