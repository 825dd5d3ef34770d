import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig } from '../config/app-config';
import type { User } from '../users/user.entity';

interface AccessClaims {
  sub: string;
  typ: 'access';
}

/** Short-lived HS256 access JWTs. Only the subject is trusted; role and status come from the database. */
@Injectable()
export class AccessTokens {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
  ) {}

  get ttlSeconds(): number {
    return this.config.auth.accessTtlSeconds;
  }

  sign(user: User): Promise<string> {
    const claims: AccessClaims = { sub: user.id, typ: 'access' };
    return this.jwt.signAsync(claims, {
      secret: this.config.auth.jwtSecret,
      algorithm: 'HS256',
      expiresIn: this.ttlSeconds,
    });
  }

  /** The user id of a valid token, or null for anything else (bad signature, expired, alg none…). */
  async verify(token: string): Promise<string | null> {
    try {
      const claims = await this.jwt.verifyAsync<Partial<AccessClaims>>(token, {
        secret: this.config.auth.jwtSecret,
        algorithms: ['HS256'],
      });
      return claims.typ === 'access' && typeof claims.sub === 'string' ? claims.sub : null;
    } catch {
      return null;
    }
  }
}
