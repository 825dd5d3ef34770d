import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet, { strictTransportSecurity } from 'helmet';

/**
 * Helmet's defaults assume the server itself speaks TLS. Proximity leaves TLS to a reverse proxy
 * and is often reached over plain HTTP by a LAN name (`http://proximity.lan:3000`); there,
 * helmet's `upgrade-insecure-requests` makes the browser fetch Swagger UI's scripts over HTTPS
 * from a port that speaks none, and the docs page stays blank. The policy below is helmet's,
 * tightened (no framing at all, no remote styles or fonts), without that directive.
 */
const STRICT_DIRECTIVES = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  // The web UI's styles are files too (Vite extracts them); see web/README.md.
  styleSrc: ["'self'"],
};

// Swagger UI's page carries <style> blocks and style attributes; its scripts are files.
const DOCS_DIRECTIVES = { ...STRICT_DIRECTIVES, styleSrc: ["'self'", "'unsafe-inline'"] };

const API_DOCS = /^\/api\/docs(\/|$)/;

// The proxy owns the domain: including its subdomains is its decision, not ours.
const hsts = strictTransportSecurity({ maxAge: 31_536_000, includeSubDomains: false });

/**
 * HSTS only on requests that reached us over HTTPS (directly, or through a trusted proxy's
 * `X-Forwarded-Proto`): sent over plain HTTP it would be ignored at best.
 */
function hstsOverTls(req: Request, res: Response, next: NextFunction): void {
  if (req.secure) return hsts(req, res, next);
  next();
}

function headersWith(directives: typeof STRICT_DIRECTIVES): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives },
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
  });
}

export function securityHeaders(): RequestHandler[] {
  const strict = headersWith(STRICT_DIRECTIVES);
  const docs = headersWith(DOCS_DIRECTIVES);
  const byPath: RequestHandler = (req, res, next) =>
    (API_DOCS.test(req.path) ? docs : strict)(req, res, next);
  return [byPath, hstsOverTls];
}
