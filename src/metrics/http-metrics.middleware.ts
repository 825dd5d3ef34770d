import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { matchedRoute } from '../common/http/matched-route';
import { MetricsRegistry } from './metrics.registry';

/** Times every request; the label is the route template, never the raw path (unbounded cardinality). */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsRegistry) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const stop = this.metrics.httpDuration.startTimer();
    res.once('finish', () => {
      stop({
        method: req.method,
        route: matchedRoute(req) ?? 'unmatched',
        status: String(res.statusCode),
      });
    });
    next();
  }
}
