import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { MetricsRegistry } from '../metrics/metrics.registry';
import { LogLevel } from '../operations/deployment-log.entity';
import { ACTIVE_OPERATION_STATUSES, Operation } from '../operations/operation.entity';
import { OverdueOperations } from '../operations/overdue-operations';
import { StepRunner } from '../operations/step-runner';
import { attemptsBeforeLoss, enqueueOperation } from '../queue/operation-jobs';

export const JOB_LOST = 'the job was lost (queue restarted); it resumes';

// Enough for one tick; what is left waits for the next.
const BATCH = 50;

/**
 * Puts back the job of an operation its queue lost (Redis restarted without
 * its data) before the operation's deadline, so the worker resumes it
 * instead of the application showing its transition until the reconciler
 * ends it. Only operations whose row did not change for the grace period:
 * a request enqueues right after its commit (and deletes the row when that
 * fails), and a worker still running one whose job was lost under it
 * records each step.
 */
@Injectable()
export class LostJobRequeuer {
  constructor(
    @InjectPinoLogger(LostJobRequeuer.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly config: AppConfig,
    private readonly overdue: OverdueOperations,
    private readonly runner: StepRunner,
    private readonly metrics: MetricsRegistry,
  ) {}

  async requeue(now: Date = new Date()): Promise<number> {
    const beforeDeadline = this.overdue.all().flatMap((handler) =>
      handler.types.map((type) => ({
        type,
        createdAt: { $gte: new Date(now.getTime() - handler.deadlineMs(type)) },
      })),
    );
    if (beforeDeadline.length === 0) return 0;
    const candidates = await this.em.fork().find(
      Operation,
      {
        status: { $in: [...ACTIVE_OPERATION_STATUSES] },
        updatedAt: { $lt: new Date(now.getTime() - this.config.jobs.requeueGraceMs) },
        $or: beforeDeadline,
      },
      { orderBy: { createdAt: 'asc' }, limit: BATCH },
    );
    let requeued = 0;
    for (const op of candidates) {
      try {
        if (await this.putBack(op)) requeued += 1;
      } catch (err) {
        // The next tick tries again; one bad row must not hold up the others.
        this.logger.error({ operationId: op.id, err }, 'could not put back a lost job');
      }
    }
    return requeued;
  }

  private async putBack(op: Operation): Promise<boolean> {
    const handler = this.overdue.handlerOf(op.type);
    // A job in any state, even failed, was not lost: the deadline deals with it.
    if (!handler || (await handler.queue.getJob(op.id))) return false;
    const priorAttempts = attemptsBeforeLoss(op);
    // Written first so that it precedes the resumed attempt's lines.
    await this.runner.log(
      { operationId: op.id, applicationId: op.application.id, secrets: [] },
      null,
      LogLevel.Warn,
      JOB_LOST,
    );
    await enqueueOperation(handler.queue, handler.jobName(op.type), op, priorAttempts);
    this.logger.warn(
      { operationId: op.id, type: op.type, status: op.status, step: op.step, priorAttempts },
      'the queue lost an operation job; put it back',
    );
    this.metrics.operationRequeued(op.type);
    return true;
  }
}
