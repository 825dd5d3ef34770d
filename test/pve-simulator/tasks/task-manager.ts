import { ConfigFileLocks, lockTimeoutMessage, ReleaseLock } from '../pve/config-file-lock';
import { Cluster } from '../state/cluster';
import { Latency } from '../util/latency';
import { Scheduler } from '../util/scheduler';

/** An error that ends a task with this exit status (the text after `TASK ERROR: `). */
export class TaskFailure extends Error {}

const UNEXPECTED_STATUS = 'unexpected status';

/**
 * The worker ends the process itself (a Perl `exit` inside it, as vzdump does
 * when it cannot get its lock): fork_worker writes no `TASK …` line, so the
 * status read back from the log's last line is `unexpected status`.
 */
export class TaskExit extends Error {
  constructor() {
    super(UNEXPECTED_STATUS);
  }
}

/** How worker code failed: its error text, and whether it exited without a TASK line. */
interface WorkerFailure {
  text: string;
  exited: boolean;
}

export interface TaskContext {
  log(line: string): void;
  /** Logs a warning line; the task then ends with `WARNINGS: n` instead of `OK`. */
  warn(line: string): void;
}

export interface TaskSpec {
  node: string;
  type: string;
  id: string;
  user: string;
  /** The worker, run after the task latency; throwing ends the task in error. */
  run(ctx: TaskContext): Promise<void> | void;
  /** Undoes what the request set up when the task fails (locks, half-created guests). */
  onFailure?(message: string): Promise<void> | void;
  /** A fault rule's `failTask`: the worker is not run, the task fails with this text. */
  injectedFailure?: string | null;
  /** Log lines written as the task starts. */
  startLines?: string[];
  /**
   * The guest's config file lock, taken as the worker starts (lock_config around
   * its code) and waited for up to `lockWaitMs`: held until `run` has ended, or
   * with `holdWhileRunning: false` only for `precheck` (snapshots take it again
   * briefly to commit, which the simulator leaves out).
   */
  configLock?: { vmid: number; holdWhileRunning: boolean };
  /**
   * What the worker checks (and locks in the config) as soon as it holds the
   * config file lock: at once when the lock is free, that is before the request
   * is answered. A text fails the task, which still runs for the task latency.
   */
  precheck?(): string | null;
  /**
   * Work after `run`, once the config file lock is released: a nested API call
   * such as vm_start after create with start=1. Its failure fails the task but
   * is not undone by `onFailure`.
   */
  afterUnlock?(ctx: TaskContext): Promise<void> | void;
}

/** Where a worker stands once it got past its config lock and checks. */
interface WorkerGate {
  release: ReleaseLock | null;
  failure: string | null;
  timedOut?: boolean;
}

export interface Task {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
  status: 'running' | 'stopped';
  exitstatus: string | null;
  endtime: number | null;
  lines: string[];
}

const MAX_TASKS = 5000;

/**
 * fork_worker's `chomp $err; $err =~ s/\n/ /mg`: the status is read back from
 * the log's last line, so a multi-line error must become one line.
 */
function oneLineError(message: string): string {
  const joined = message.replace(/\n$/, '').replace(/\n/g, ' ');
  return joined.trim() === '' ? 'unknown error' : joined;
}

function hex8(value: number): string {
  return value.toString(16).toUpperCase().padStart(8, '0');
}

/**
 * Proxmox worker tasks: a UPID per task, `running` until the task latency has
 * passed, then `stopped` with `exitstatus` `OK`, `WARNINGS: n` or the error text,
 * and a log that ends in `TASK OK` / `TASK WARNINGS: n` / `TASK ERROR: …`.
 */
export class TaskManager {
  private readonly tasks = new Map<string, Task>();
  private nextPid: number;
  private failed = 0;
  private total = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly scheduler: Scheduler,
    private readonly latency: Latency,
    private readonly locks: ConfigFileLocks,
    private readonly onSettled: () => void,
  ) {
    this.nextPid = cluster.random.int(0x10000, 0x3fffff);
  }

  spawn(spec: TaskSpec): string {
    const node = this.cluster.node(spec.node);
    if (!node) throw new Error(`unknown node ${spec.node}`);
    const now = this.cluster.now();
    const pid = this.nextPid++;
    const pstart = node.ticksSinceBoot(now);
    const starttime = Math.floor(now / 1000);
    const upid = `UPID:${spec.node}:${hex8(pid)}:${hex8(pstart)}:${hex8(starttime)}:${spec.type}:${spec.id}:${spec.user}:`;
    const task: Task = {
      upid,
      node: spec.node,
      pid,
      pstart,
      starttime,
      type: spec.type,
      id: spec.id,
      user: spec.user,
      status: 'running',
      exitstatus: null,
      endtime: null,
      lines: [...(spec.startLines ?? [])],
    };
    this.tasks.set(upid, task);
    this.total++;
    this.prune();
    this.execute(task, spec, this.gateAtOnce(spec)).catch((error: unknown) => {
      process.stderr.write(`pve-simulator: task ${upid} failed to settle: ${String(error)}\n`);
    });
    return upid;
  }

  /** The gate passed before the request is answered, or null when the lock is busy. */
  private gateAtOnce(spec: TaskSpec): WorkerGate | null {
    if (!spec.configLock) return { release: null, failure: spec.precheck?.() ?? null };
    const release = this.locks.tryAcquire(spec.node, spec.configLock.vmid);
    return release ? this.checkUnderLock(spec, release) : null;
  }

  /** lock_file_full blocking: it tells the log it waits, then ` OK`, or dies after the timeout. */
  private async gateAfterWait(task: Task, spec: TaskSpec): Promise<WorkerGate> {
    const vmid = (spec.configLock as { vmid: number }).vmid;
    task.lines.push('trying to acquire lock...');
    const release = await this.locks.acquire(
      spec.node,
      vmid,
      this.latency.lockWaitMs,
      this.scheduler,
    );
    if (!release) return { release: null, failure: lockTimeoutMessage(vmid), timedOut: true };
    task.lines.push(' OK');
    return this.checkUnderLock(spec, release);
  }

  private checkUnderLock(spec: TaskSpec, release: ReleaseLock): WorkerGate {
    const failure = spec.precheck?.() ?? null;
    if (failure === null && spec.configLock?.holdWhileRunning) return { release, failure };
    release();
    return { release: null, failure };
  }

  private async execute(task: Task, spec: TaskSpec, ready: WorkerGate | null): Promise<void> {
    const gate = ready ?? (await this.gateAfterWait(task, spec));
    // A lock timeout ends the worker at once: the wait was its run time.
    if (!gate.timedOut) await this.scheduler.delay(this.latency.taskMs);
    let warnings = 0;
    const ctx: TaskContext = {
      log: (line) => task.lines.push(line),
      warn: (line) => {
        warnings++;
        task.lines.push(`WARN: ${line}`);
      },
    };
    let failure: WorkerFailure | null =
      gate.failure !== null
        ? { text: gate.failure, exited: false }
        : await this.attempt(task, () => {
            if (spec.injectedFailure !== undefined && spec.injectedFailure !== null)
              throw new TaskFailure(spec.injectedFailure);
            return spec.run(ctx);
          });
    if (failure !== null) {
      try {
        await spec.onFailure?.(oneLineError(failure.text));
      } catch (error) {
        task.lines.push(
          `cleanup failed - ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    gate.release?.();
    const afterUnlock = spec.afterUnlock;
    if (failure === null && afterUnlock) failure = await this.attempt(task, () => afterUnlock(ctx));
    this.finish(task, failure, warnings);
  }

  /** Runs worker code; how it failed, or null when it went through. */
  private async attempt(
    task: Task,
    work: () => Promise<void> | void,
  ): Promise<WorkerFailure | null> {
    try {
      await work();
      return null;
    } catch (error) {
      const exited = error instanceof TaskExit;
      if (!(error instanceof TaskFailure) && !exited)
        process.stderr.write(
          `pve-simulator: task ${task.upid} crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
        );
      return { text: error instanceof Error ? error.message : String(error), exited };
    }
  }

  private finish(task: Task, failure: WorkerFailure | null, warnings: number): void {
    if (failure !== null) {
      const exitstatus = oneLineError(failure.text);
      if (!failure.exited) task.lines.push(`TASK ERROR: ${exitstatus}`);
      task.exitstatus = exitstatus;
      this.failed++;
    } else if (warnings > 0) {
      task.lines.push(`TASK WARNINGS: ${warnings}`);
      task.exitstatus = `WARNINGS: ${warnings}`;
    } else {
      task.lines.push('TASK OK');
      task.exitstatus = 'OK';
    }
    task.status = 'stopped';
    task.endtime = Math.floor(this.cluster.now() / 1000);
    this.cluster.touch();
    this.onSettled();
  }

  get(upid: string): Task | undefined {
    return this.tasks.get(upid);
  }

  list(): Task[] {
    return [...this.tasks.values()];
  }

  stats(): { running: number; failed: number; total: number } {
    let running = 0;
    for (const task of this.tasks.values()) if (task.status === 'running') running++;
    return { running, failed: this.failed, total: this.total };
  }

  /** Forgets every task; their pending timers are cancelled by the scheduler. */
  reset(): void {
    this.tasks.clear();
    this.failed = 0;
    this.total = 0;
  }

  private prune(): void {
    if (this.tasks.size <= MAX_TASKS) return;
    for (const [upid, task] of this.tasks) {
      if (this.tasks.size <= MAX_TASKS) break;
      if (task.status === 'stopped') this.tasks.delete(upid);
    }
  }
}
