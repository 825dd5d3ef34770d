import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SwaggerModule } from '@nestjs/swagger';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { Logger, PinoLogger } from 'nestjs-pino';
import { AppModule, type AppModuleOptions } from './app.module';
import { DomainError } from './common/errors/domain-error';
import { EncryptionKeysCheck } from './crypto/encryption-keys.check';
import { sendError } from './common/errors/http-error.filter';
import { jsonBodyParser, requestBodyErrorOf } from './common/http/json-body';
import { assignRequestId } from './common/http/request-id';
import { securityHeaders } from './common/http/security-headers';
import { webUi } from './common/http/web-ui';
import type { AppConfig } from './config/app-config';
import { HttpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { buildOpenApiDocument } from './openapi';

const WORKER_ROUTES = /^\/(health\/|metrics(\/|$|\?))/;

/** Builds the whole application the same way for production, the CLI and the tests. */
export async function createApp(
  config: AppConfig,
  options: AppModuleOptions = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options), {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  await configureHttp(app, config);
  try {
    // Before init: module hooks start the queue workers, and Bull cannot
    // close a worker whose connections are still coming up (it leaves them
    // open and rejects their commands with nobody listening), so a start
    // refused after them would leak connections or die on that rejection.
    await app.get(EncryptionKeysCheck).verify();
    await app.init();
  } catch (err) {
    // A start-up check that refuses must not leave the pool, Redis or Bull open behind it.
    await app.close().catch(() => undefined);
    throw err;
  }
  return app;
}

async function configureHttp(app: NestExpressApplication, config: AppConfig): Promise<void> {
  const errorLogger = await app.resolve(PinoLogger);
  app.set('trust proxy', config.http.trustProxyHops);
  app.disable('x-powered-by');
  app.use((req: Request, res: Response, next: NextFunction) => {
    assignRequestId(req, res);
    next();
  });
  const metrics = app.get(HttpMetricsMiddleware);
  app.use((req: Request, res: Response, next: NextFunction) => metrics.use(req, res, next));
  app.use(securityHeaders());
  if (config.http.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.http.corsOrigins,
      exposedHeaders: ['x-request-id', 'retry-after'],
      maxAge: 600,
    });
  }
  if (!config.runsApi) {
    // A worker serves probes and metrics only.
    app.use((req: Request, res: Response, next: NextFunction) => {
      if (WORKER_ROUTES.test(req.url)) return next();
      sendError(DomainError.notFound('Route'), req, res, errorLogger);
    });
  }
  app.use(jsonBodyParser());
  // Body-parser failures happen before Nest's filters; answer them in the same envelope.
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    sendError(requestBodyErrorOf(err), req, res, errorLogger);
  });
  if (config.runsApi) {
    mountApiDocs(app);
    app.use(webUi(config.http.webRoot));
  }
}

function mountApiDocs(app: INestApplication): void {
  SwaggerModule.setup('api/docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'api/docs-json',
    yamlDocumentUrl: 'api/docs-yaml',
  });
}
