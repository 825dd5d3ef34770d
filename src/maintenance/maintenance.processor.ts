import { CreateRequestContext, MikroORM } from '@mikro-orm/core';
import { Process, Processor } from '@nestjs/bull';
import { Logger } from '@nestjs/common';
import { ApiTokensService } from '../auth/api-tokens.service';
import { QueueName } from '../queue/queue.module';
import { SessionsService } from '../sessions/sessions.service';

export const PRUNE_CREDENTIALS_JOB = 'prune-expired-credentials';
// Kept a day past expiry so a late "token expired" answer can still be explained from the rows.
const GRACE_MS = 86_400_000;

@Processor(QueueName.Maintenance)
export class MaintenanceProcessor {
  private readonly logger = new Logger(MaintenanceProcessor.name);

  constructor(
    // Read by @CreateRequestContext to give each job its own identity map.
    readonly orm: MikroORM,
    private readonly sessions: SessionsService,
    private readonly apiTokens: ApiTokensService,
  ) {}

  @Process(PRUNE_CREDENTIALS_JOB)
  @CreateRequestContext()
  async pruneExpiredCredentials(): Promise<{ refreshTokens: number; apiTokens: number }> {
    const before = new Date(Date.now() - GRACE_MS);
    const refreshTokens = await this.sessions.pruneExpired(before);
    const apiTokens = await this.apiTokens.pruneExpired(before);
    this.logger.log({ refreshTokens, apiTokens }, 'pruned expired credentials');
    return { refreshTokens, apiTokens };
  }
}
