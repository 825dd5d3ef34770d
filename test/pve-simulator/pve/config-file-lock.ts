import { Scheduler } from '../util/scheduler';

/** PVE::LXC::Config->config_file_lock: the file every lock_config flocks. */
export function configLockFile(vmid: number): string {
  return `/run/lock/lxc/pve-config-${vmid}.lock`;
}

/** pve-common lock_file_full's error once run_with_timeout's alarm has fired. */
export function lockTimeoutMessage(vmid: number): string {
  return `can't lock file '${configLockFile(vmid)}' - got timeout`;
}

/** Gives the lock back; calling it again, or after a reset, does nothing. */
export type ReleaseLock = () => void;

interface LockQueue {
  /** Who gets the lock next, in the order they asked. */
  waiters: Array<(release: ReleaseLock) => void>;
}

/**
 * The exclusive flock on each guest's config lock file: one holder at a time,
 * the others block until it is released or their timeout passes. Keyed by
 * node and vmid, since the file lives in each node's /run.
 */
export class ConfigFileLocks {
  private readonly queues = new Map<string, LockQueue>();

  /** flock with LOCK_NB: the lock if nobody holds it, else null. */
  tryAcquire(node: string, vmid: number): ReleaseLock | null {
    const key = `${node}/${vmid}`;
    if (this.queues.has(key)) return null;
    const queue: LockQueue = { waiters: [] };
    this.queues.set(key, queue);
    return this.releaser(key, queue);
  }

  /** Waits up to `timeoutMs` for the lock; null when the time ran out. */
  acquire(
    node: string,
    vmid: number,
    timeoutMs: number,
    scheduler: Scheduler,
  ): Promise<ReleaseLock | null> {
    const free = this.tryAcquire(node, vmid);
    if (free) return Promise.resolve(free);
    const queue = this.queues.get(`${node}/${vmid}`) as LockQueue;
    return new Promise((resolve) => {
      const waiter = (release: ReleaseLock): void => {
        cancelTimeout();
        resolve(release);
      };
      const cancelTimeout = scheduler.timer(timeoutMs, () => {
        const index = queue.waiters.indexOf(waiter);
        if (index >= 0) queue.waiters.splice(index, 1);
        resolve(null);
      });
      queue.waiters.push(waiter);
    });
  }

  /** Forgets every holder and waiter (a reset: the guests they were for are gone). */
  reset(): void {
    this.queues.clear();
  }

  private releaser(key: string, queue: LockQueue): ReleaseLock {
    let released = false;
    return () => {
      if (released || this.queues.get(key) !== queue) return;
      released = true;
      const next = queue.waiters.shift();
      if (next) next(this.releaser(key, queue));
      else this.queues.delete(key);
    };
  }
}
