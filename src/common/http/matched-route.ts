import type { Request } from 'express';

/** The route pattern Express matched (`/api/users/:id`), or null when no route did (404). */
export function matchedRoute(req: Request): string | null {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : null;
}
