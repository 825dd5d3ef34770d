import { Global, Module } from '@nestjs/common';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics.registry';
import { RuntimeGauges } from './runtime-gauges';

/** HttpMetricsMiddleware is mounted first in configureApp, so it also times rejected bodies. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsRegistry, HttpMetricsMiddleware, RuntimeGauges],
  exports: [MetricsRegistry, HttpMetricsMiddleware],
})
export class MetricsModule {}
