import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig } from '../config/app-config';
import type { User } from '../users/user.entity';

interface AccessClaims {
  sub: string;
  typ: 'access';
  /** The user's credentials version at issue; a password change moves it on. */
  ver: number;
  iat: number;
  exp: number;
}

/** What a valid access token says about its bearer. */
export interface AccessTokenSubject {
  userId: string;
  credentialsVersion: number;
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
    const claims: Pick<AccessClaims, 'sub' | 'typ' | 'ver'> = {
      sub: user.id,
      typ: 'access',
      ver: user.credentialsVersion,
    };
    // A unique id: two tokens for one user in one second would otherwise be byte-identical,
    // so a token could not be told apart from the one it replaced (logs, refresh, audits).
    return this.jwt.signAsync(claims, {
      algorithm: 'HS256',
      expiresIn: this.ttlSeconds,
      jwtid: randomUUID(),
    });
  }

  /**
   * The subject of a valid token, or null for anything else (bad signature,
   * expired, alg none, or missing `exp`/`iat`: the library accepts a token
   * without `exp` forever).
   */
  async verify(token: string): Promise<AccessTokenSubject | null> {
    let claims: Partial<Record<keyof AccessClaims, unknown>>;
    try {
      claims = await this.jwt.verifyAsync(token, { algorithms: ['HS256'] });
    } catch {
      return null;
    }
    const { sub, typ, ver, iat, exp } = claims;
    if (typ !== 'access' || typeof sub !== 'string') return null;
    if (typeof ver !== 'number' || !Number.isInteger(ver)) return null;
    if (typeof iat !== 'number' || typeof exp !== 'number') return null;
    return { userId: sub, credentialsVersion: ver };
  }
}
