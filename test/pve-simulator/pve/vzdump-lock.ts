import { Scheduler } from '../util/scheduler';

/** The node-wide lock file pve-manager's VZDump::getlock flocks. */
export const VZDUMP_LOCK_FILE = '/var/run/vzdump.lock';

/** One job's hold on (or place in the queue for) a node's vzdump lock. */
export interface VzdumpLockClaim {
  /** The lock was free: flock with LOCK_NB succeeded, nothing was waited for. */
  readonly immediate: boolean;
  /** Resolves true once the lock is held, false when the wait timed out or was given up. */
  readonly granted: Promise<boolean>;
  /** Gives the lock back (the next waiter gets it), or stops waiting; safe to call twice. */
  release(): void;
}

interface Waiter {
  grant(): void;
}

/**
 * pve-manager's `/var/run/vzdump.lock`: one backup job per node. A job that
 * finds it taken waits for it (flock LOCK_EX under an alarm of `lockwait`
 * minutes) while its task runs; the lock passes to waiters in turn.
 */
export class VzdumpLocks {
  private readonly held = new Set<string>();
  private readonly queues = new Map<string, Waiter[]>();
  /** Bumped by reset(), so that a claim from before it cannot touch the new holders. */
  private generation = 0;

  constructor(private readonly scheduler: Scheduler) {}

  claim(node: string, timeoutMs: number): VzdumpLockClaim {
    const generation = this.generation;
    let state: 'waiting' | 'held' | 'done' = 'waiting';
    let settle: (granted: boolean) => void = () => undefined;
    const granted = new Promise<boolean>((resolve) => (settle = resolve));
    const queue = this.queue(node);
    let cancelTimeout = (): void => undefined;
    const waiter: Waiter = {
      grant: () => {
        cancelTimeout();
        state = 'held';
        settle(true);
      },
    };
    const stopWaiting = (): void => {
      cancelTimeout();
      const index = queue.indexOf(waiter);
      if (index >= 0) queue.splice(index, 1);
      state = 'done';
      settle(false);
    };
    const immediate = !this.held.has(node);
    if (immediate) {
      this.held.add(node);
      waiter.grant();
    } else {
      queue.push(waiter);
      cancelTimeout = this.scheduler.timer(timeoutMs, stopWaiting);
    }
    return {
      immediate,
      granted,
      release: () => {
        if (generation !== this.generation) return;
        if (state === 'waiting') stopWaiting();
        else if (state === 'held') {
          state = 'done';
          this.handOn(node);
        }
      },
    };
  }

  /** Forgets every holder and waiter (/_sim/reset; their tasks are gone too). */
  reset(): void {
    this.generation++;
    this.held.clear();
    this.queues.clear();
  }

  private handOn(node: string): void {
    const next = this.queue(node).shift();
    if (next) next.grant();
    else this.held.delete(node);
  }

  private queue(node: string): Waiter[] {
    let queue = this.queues.get(node);
    if (!queue) {
      queue = [];
      this.queues.set(node, queue);
    }
    return queue;
  }
}
