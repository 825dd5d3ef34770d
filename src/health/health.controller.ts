import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import type { Response } from 'express';
import { Public } from '../common/auth/access.decorators';
import { MetricsRegistry } from '../metrics/metrics.registry';
import { DependencyProbes } from './dependency-probes';

@ApiTags('probes')
@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly probes: DependencyProbes,
    private readonly metrics: MetricsRegistry,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: 200 while the process serves' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: 200 when PostgreSQL and Redis answer, 503 otherwise' })
  @ApiOkResponse({
    schema: { example: { status: 'ok', details: { database: { status: 'up' } } } },
  })
  @ApiServiceUnavailableResponse({
    schema: { example: { status: 'error', details: { redis: { status: 'down' } } } },
  })
  async ready(@Res({ passthrough: true }) res: Response): Promise<HealthCheckResult> {
    try {
      const result = await this.health.check([
        () => this.probes.database('database'),
        () => this.probes.redis('redis'),
      ]);
      this.metrics.readinessProbed(true);
      return result;
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      this.metrics.readinessProbed(false);
      // Terminus reports a failed probe as an exception; it is still the answer.
      res.status(503);
      return err.getResponse() as HealthCheckResult;
    }
  }
}
