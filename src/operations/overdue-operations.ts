import { Global, Injectable, Module } from '@nestjs/common';
import type { Queue } from 'bull';
import type { OperationJobData } from '../queue/operation-jobs';
import type { Operation, OperationType } from './operation.entity';

/**
 * How the reconciler ends an operation of some types that outlived its
 * deadline without a job to finish it, and puts back the job of one whose
 * queue lost it before then. The module that runs those
 * operations provides it, so the reconciler needs to know no operation type.
 */
export interface OverdueOperationHandler {
  readonly types: readonly OperationType[];
  /** The queue their jobs run on: while it still holds an operation's job, that job ends it. */
  readonly queue: Queue<OperationJobData>;
  /** The name of the job that runs an operation of `type`, to put back a job the queue lost. */
  jobName(type: OperationType): string;
  /** How long an operation of `type` may stay queued or running, counted from its creation. */
  deadlineMs(type: OperationType): number;
  /** Compensates what the operation did and leaves it and its rows in a final state. */
  end(op: Operation): Promise<void>;
}

/** The handlers of every operation type this process runs; each module registers its own. */
@Injectable()
export class OverdueOperations {
  private readonly handlers = new Map<OperationType, OverdueOperationHandler>();

  register(handler: OverdueOperationHandler): void {
    for (const type of handler.types) {
      if (this.handlers.has(type)) throw new Error(`two overdue handlers for ${type}`);
      this.handlers.set(type, handler);
    }
  }

  handlerOf(type: OperationType): OverdueOperationHandler | undefined {
    return this.handlers.get(type);
  }

  all(): OverdueOperationHandler[] {
    return [...new Set(this.handlers.values())];
  }
}

@Global()
@Module({ providers: [OverdueOperations], exports: [OverdueOperations] })
export class OverdueOperationsModule {}
