import type { UserRole } from '../../users/user.entity';

/** Who is calling: one principal per request, from an access JWT or a personal API token. */
export interface Principal {
  userId: string;
  username: string;
  role: UserRole;
  authMethod: 'jwt' | 'api_token';
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the global AccessGuard on every non-public route. */
    principal?: Principal;
  }
}
