import type { UserRole } from '../../users/user.entity';

/** What a caller's credential allows: `read` is GET/HEAD only. */
export type Scope = 'read' | 'write';

/** Who is calling: one principal per request, from an access JWT or a personal API token. */
export interface Principal {
  userId: string;
  username: string;
  role: UserRole;
  authMethod: 'jwt' | 'api_token';
  /** A login session always has `write`; a personal API token has the scope it was created with. */
  scope: Scope;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the global AccessGuard on every non-public route. */
    principal?: Principal;
  }
}
