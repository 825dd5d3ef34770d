import { DynamicModule, Module } from '@nestjs/common';
import type { Request } from 'express';
import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { AppConfig } from '../../config/app-config';
import { matchedRoute } from '../http/matched-route';
import { requestIdOf } from '../http/request-id';
import { serializeError } from './error-serializer';
import { REDACT_PATHS, REDACTED } from './redaction';

type Fields = Record<string, unknown>;

/**
 * The line of a finished request. Route and caller are known only at the end (matched and
 * authenticated while the request runs). The raw path only when no real route matched (Nest
 * answers unknown paths from a catch-all `/{*all}`), so ids in URLs do not fill the log.
 * pino-http's own `err` on a 5xx is a stack-bearing "failed with status code 500": dropped, the
 * exception filter logs the real error once, with the request id.
 */
function finishedRequest(message: IncomingMessage, { err: _synthetic, ...fields }: Fields): Fields {
  // pino-http is typed for node's request; this app's requests are Express's.
  const req = message as Request;
  const route = matchedRoute(req);
  return {
    ...fields,
    ...(route !== null && !route.includes('*')
      ? { route }
      : { path: req.originalUrl.split('?')[0] }),
    ...(req.principal ? { userId: req.principal.userId } : {}),
  };
}

@Module({})
export class LoggingModule {
  /** `destination` lets tests capture every line the process writes. */
  static forRoot(config: AppConfig, destination?: DestinationStream): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: [
            {
              level: config.logLevel,
              redact: { paths: REDACT_PATHS, censor: REDACTED },
              genReqId: (req) => requestIdOf(req),
              customProps: () => ({ role: config.role }),
              // Probes are polled every few seconds; logging each drowns real traffic.
              autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health/') },
              customSuccessObject: (req, _res, fields: Fields) => finishedRequest(req, fields),
              customErrorObject: (req, _res, _err, fields: Fields) => finishedRequest(req, fields),
              serializers: {
                err: serializeError,
                // Bound to every line of the request from its start, so only what is known then.
                req: (req: { id: string; method: string }) => ({ id: req.id, method: req.method }),
                // Not the headers: the same kilobyte of security headers on every line.
                res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
              },
            },
            destination ?? process.stdout,
          ],
        }),
      ],
      exports: [LoggerModule],
    };
  }
}
