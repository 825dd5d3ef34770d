import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  static as serveStatic,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';

/** Paths the API owns: the UI never answers them, so an unknown `/api/...` keeps its JSON 404. */
const API_PATHS = /^\/(api|health|metrics)(\/|$)/;

/** Vite puts every hashed file under `assets/`; their names change with their content. */
const HASHED_ASSETS = /^\/assets\//;

/**
 * Serves the built single-page UI at `/`: hashed assets cached for a year, `index.html` never
 * cached (it names the current assets), and any other page path answered with `index.html` so
 * the UI's router can show it (its own 404 page included). Without a build, `/` says so.
 */
export function webUi(webRoot: string): RequestHandler {
  const indexFile = join(webRoot, 'index.html');
  const files = serveStatic(webRoot, {
    index: false,
    fallthrough: true,
    setHeaders: (res, path) => {
      const hashed = path.startsWith(join(webRoot, 'assets'));
      res.setHeader('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  return (req: Request, res: Response, next: NextFunction) => {
    if (API_PATHS.test(req.path) || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    if (!existsSync(indexFile)) return notBuilt(res);
    files(req, res, () => {
      if (HASHED_ASSETS.test(req.path)) return notFound(res);
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(indexFile);
    });
  };
}

function notBuilt(res: Response): void {
  res
    .status(404)
    .type('text/plain')
    .send('The web UI is not built. Run `npm run web:build`, then restart; the API is at /api.\n');
}

function notFound(res: Response): void {
  res.status(404).type('text/plain').send('Not found.\n');
}
