import type { EntityManager } from '@mikro-orm/postgresql';

/** A PostgreSQL advisory lock, named: the name (and key) are hashed to the lock's two ids. */
export interface NamedLock {
  readonly name: string;
  /** Narrows the lock to one thing (an owner's id); empty for a lock over the whole concern. */
  readonly key: string;
}

const named = (name: string, key = ''): NamedLock => ({ name, key });

/**
 * Every advisory lock the application takes. Held until the transaction
 * ends. When one transaction takes several, it takes them in the order they
 * are listed here, so that two transactions never wait on each other.
 */
export const Lock = {
  /** Two replicas starting together create one first admin. */
  AdminBootstrap: named('admin-bootstrap'),
  /**
   * Changes to users. Row locks alone deadlock when two admins demote each
   * other at once (each holds its target and waits for the other).
   */
  UserChange: named('user-change'),
  /** Writes of hosts: no two can both pass the VMID-range overlap check or pick one free block. */
  HostRanges: named('host-ranges'),
  /** The applications of one owner: two deploys cannot both pass the per-user quota. */
  ApplicationsOf: (ownerId: string): NamedLock => named('applications-of-owner', ownerId),
  /** One reconcile pass at a time: the scheduled job and the CLI may run together. */
  Reconciler: named('reconciler'),
} as const;

/**
 * Runs `work` in a transaction that holds `lock` (joining the caller's
 * transaction when `em` is in one). Equal names and keys in every process
 * give the same lock; a hash collision between two locks only serialises
 * them, never lets two holders of one lock run together.
 */
export async function withLock<T>(
  lock: NamedLock,
  em: EntityManager,
  work: (em: EntityManager) => Promise<T>,
): Promise<T> {
  const locked = async (tx: EntityManager): Promise<T> => {
    await tx.execute('select pg_advisory_xact_lock(hashtext(?), hashtext(?))', [
      lock.name,
      lock.key,
    ]);
    return work(tx);
  };
  return em.isInTransaction() ? locked(em) : em.transactional(locked);
}
