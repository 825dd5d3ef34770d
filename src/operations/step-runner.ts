import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { MetricsRegistry } from '../metrics/metrics.registry';
import { scrubSecrets } from '../proxmox/shell/shell-errors';
import { DeploymentLog, LogLevel } from './deployment-log.entity';
import { Operation, OperationStatus } from './operation.entity';

/** One named, idempotent piece of an operation; it hands its state on to the next. */
export interface NamedStep<P, S> {
  readonly name: string;
  run(plan: P, state: S): Promise<S>;
}

export interface StepRun<P, S> {
  operationId: string;
  applicationId: string;
  steps: readonly NamedStep<P, S>[];
  plan: P;
  /** What earlier attempts left (restored by the caller from its own columns). */
  state: S;
  /** Values no log line may contain (root password, secret environment values). */
  secrets: readonly string[];
  /** Proximity's wording of a step's failure; never an upstream text. */
  describe(error: unknown): string;
  /** Keeps what a step handed on, so an attempt that resumes past it still has it. */
  persist?(state: S): Promise<void>;
}

export interface AttemptStart {
  operation: Operation;
  attempt: number;
  /** No retry follows this attempt's failure. */
  last: boolean;
  /** The log line that opens the attempt. */
  line: string;
}

/** A step failed; `message` is the wording the log and the operation show. */
export class StepFailure extends Error {
  constructor(
    readonly step: string,
    message: string,
    readonly error: unknown,
  ) {
    super(message);
    this.name = 'StepFailure';
  }
}

/**
 * Runs an operation's named steps and records on its row what a reader (and
 * the next attempt) needs: the step reached, progress, attempts, start and
 * end. Each attempt resumes at the step recorded last (steps are idempotent,
 * so re-running the interrupted one is safe). Every step leaves a log line
 * with its outcome, scrubbed of the run's secrets. Lifecycle, clone and
 * backup operations use it the same way as deployments.
 */
@Injectable()
export class StepRunner {
  constructor(
    private readonly em: EntityManager,
    private readonly metrics: MetricsRegistry,
  ) {}

  /**
   * Marks the operation running and records which attempt this is: the
   * attempts Bull counted as failed, plus one. A job Bull hands to another
   * worker after its own died (a stalled job) was not counted as failed, so
   * it resumes the same attempt: the number never passes `maxAttempts`, and
   * Bull fails a job that stalls again instead of running it once more.
   * Null when there is nothing to run: the operation is gone or has ended.
   */
  async beginAttempt(operationId: string, failedAttempts: number): Promise<AttemptStart | null> {
    const em = this.em.fork();
    const op = await em.findOne(Operation, { id: operationId });
    // Discarded after an enqueue that timed out, or finished by an earlier run of this job.
    if (!op || op.status === OperationStatus.Succeeded || op.status === OperationStatus.Failed) {
      return null;
    }
    const attempt = Math.min(failedAttempts + 1, op.maxAttempts);
    const resumed = op.attempts >= attempt;
    op.attempts = Math.max(op.attempts, attempt);
    op.status = OperationStatus.Running;
    op.startedAt ??= new Date();
    await em.flush();
    return {
      operation: op,
      attempt,
      last: attempt >= op.maxAttempts,
      line: `attempt ${attempt} of ${op.maxAttempts}${resumed ? ' resumes after its worker stopped' : ''}`,
    };
  }

  async run<P, S>(run: StepRun<P, S>): Promise<S> {
    const em = this.em.fork();
    const op = await em.findOneOrFail(Operation, { id: run.operationId });
    const names = run.steps.map((s) => s.name);
    const start = op.step === null ? 0 : Math.max(0, names.indexOf(op.step));
    let state = run.state;
    for (let i = start; i < run.steps.length; i += 1) {
      const step = run.steps[i];
      op.step = step.name;
      await em.flush();
      try {
        state = await step.run(run.plan, state);
      } catch (error) {
        const message = scrubSecrets(run.describe(error), run.secrets);
        await this.log(run, step.name, LogLevel.Error, `${step.name} failed: ${message}`);
        throw new StepFailure(step.name, message, error);
      }
      if (run.persist) await run.persist(state);
      op.progress = Math.floor(((i + 1) * 100) / run.steps.length);
      await em.flush();
      await this.log(run, step.name, LogLevel.Info, `${step.name} done`);
    }
    return state;
  }

  /** Writes one log line of the operation, scrubbed of the given secrets. */
  async log(
    target: { operationId: string; applicationId: string; secrets: readonly string[] },
    step: string | null,
    level: LogLevel,
    message: string,
  ): Promise<void> {
    const em = this.em.fork();
    em.create(DeploymentLog, {
      application: target.applicationId,
      operation: target.operationId,
      step,
      level,
      message: scrubSecrets(message, target.secrets),
    });
    await em.flush();
  }

  /** Records that a failed attempt is left to Bull to retry. */
  async retrying(
    target: { operationId: string; applicationId: string; secrets: readonly string[] },
    type: string,
    attempt: number,
  ): Promise<void> {
    this.metrics.operationRetried(type);
    await this.log(target, null, LogLevel.Warn, `attempt ${attempt} failed; retrying`);
  }

  /**
   * Ends the operation; `error` is Proximity's wording of why it failed (null
   * on success). `compensated` says the failure undid what the operation made.
   */
  async finish(operationId: string, error: string | null, compensated = false): Promise<void> {
    const em = this.em.fork();
    const op = await em.findOne(Operation, { id: operationId });
    if (!op) return;
    op.status = error === null ? OperationStatus.Succeeded : OperationStatus.Failed;
    op.error = error;
    if (error === null) op.progress = 100;
    op.finishedAt = new Date();
    await em.flush();
    this.metrics.operationEnded(op, error === null ? 'succeeded' : 'failed');
    if (compensated) this.metrics.operationCompensated(op.type);
  }
}
