import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { AppConfig } from '../../config/app-config';
import { requestIdOf } from '../http/request-id';
import { serializeError } from './error-serializer';
import { REDACT_PATHS, REDACTED } from './redaction';

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
              serializers: {
                err: serializeError,
                req: (req: { id: string; method: string; url: string }) => ({
                  id: req.id,
                  method: req.method,
                  // The query string can carry tokens in a careless client's URL.
                  url: req.url.split('?')[0],
                }),
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
