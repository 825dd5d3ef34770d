import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { ACTIVE_OPERATION_STATUSES, Operation } from '../operations/operation.entity';
import { type OverdueOperationHandler, OverdueOperations } from '../operations/overdue-operations';
import { LostJobRequeuer } from './lost-job-requeuer';

/** Bull still holds the job in one of these: its worker (or the stalled check) will finish it. */
const OWNED_BY_QUEUE: readonly string[] = ['waiting', 'active', 'delayed', 'paused'];

// Enough for one tick; what is left waits for the next.
const BATCH = 50;

export interface OperationsReconciled {
  ended: number;
}

export interface OperationPass {
  summary: OperationsReconciled;
  /** Past their deadline, whether ended now or still held by their queue. */
  overdue: number;
}

/**
 * Ends operations that outlived their type's deadline without a job to
 * finish them (the job failed outside its handler, such as a worker that
 * died twice in it, or was lost). How each type is ended belongs to the
 * module that runs it, through its registered handler; a type without one is
 * left alone. Before that, an operation whose job the queue lost has it put
 * back, so it resumes rather than waits for its deadline.
 */
@Injectable()
export class OperationReconciler {
  constructor(
    @InjectPinoLogger(OperationReconciler.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly overdue: OverdueOperations,
    private readonly lostJobs: LostJobRequeuer,
  ) {}

  async reconcile(now: Date = new Date()): Promise<OperationPass> {
    await this.lostJobs.requeue(now);
    const handlers = this.overdue.all();
    const deadlines = handlers.flatMap((handler) =>
      handler.types.map((type) => ({
        type,
        createdAt: { $lt: new Date(now.getTime() - handler.deadlineMs(type)) },
      })),
    );
    if (deadlines.length === 0) return { summary: { ended: 0 }, overdue: 0 };
    const overdue = await this.em
      .fork()
      .find(
        Operation,
        { status: { $in: [...ACTIVE_OPERATION_STATUSES] }, $or: deadlines },
        { orderBy: { createdAt: 'asc' }, limit: BATCH },
      );
    let ended = 0;
    for (const op of overdue) {
      const handler = this.overdue.handlerOf(op.type);
      if (!handler) continue;
      try {
        if (await this.queueStillOwns(handler, op)) continue;
        this.logger.warn(
          { operationId: op.id, type: op.type, status: op.status, step: op.step },
          'ending an operation past its deadline without a job',
        );
        await handler.end(op);
        ended += 1;
      } catch (err) {
        // The next tick tries again; one bad row must not hold up the others.
        this.logger.error({ operationId: op.id, err }, 'could not end an overdue operation');
      }
    }
    return { summary: { ended }, overdue: overdue.length };
  }

  private async queueStillOwns(handler: OverdueOperationHandler, op: Operation): Promise<boolean> {
    const job = await handler.queue.getJob(op.id);
    if (!job) return false;
    return OWNED_BY_QUEUE.includes(await job.getState());
  }
}
