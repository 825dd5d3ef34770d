import { EntityManager } from '@mikro-orm/postgresql';
import { Lock, withLock, type NamedLock } from '../../src/database/locks';
import { startFreshApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/spawn-app';

/** Named advisory locks on the real database: the same lock serialises, another does not. */
describe('withLock', () => {
  let t: TestApp;
  let em: EntityManager;

  beforeAll(async () => {
    t = await startFreshApp();
    em = t.app.get(EntityManager);
  });
  afterAll(() => t?.close());

  const waitingAdvisoryLocks = async (): Promise<number> => {
    const [row] = await em
      .fork()
      .execute<{ n: string }[]>(
        `select count(*) as n from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`,
      );
    return Number(row.n);
  };

  /** Holds `first` until released; meanwhile starts a second holder of `second`. */
  async function race(first: NamedLock, second: NamedLock) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let firstHeld!: () => void;
    const held = new Promise<void>((resolve) => (firstHeld = resolve));
    const order: string[] = [];
    const one = withLock(first, em.fork(), async () => {
      firstHeld();
      await released;
      order.push('first done');
    });
    await held;
    const two = withLock(second, em.fork(), () => {
      order.push('second ran');
      return Promise.resolve();
    });
    return { one, two, order, release };
  }

  it('makes a second holder of the same lock wait until the first transaction ends', async () => {
    const { one, two, order, release } = await race(Lock.UserChange, Lock.UserChange);
    try {
      await waitFor(async () => (await waitingAdvisoryLocks()) === 1);
      expect(order).toEqual([]);
    } finally {
      release();
    }
    await Promise.all([one, two]);
    expect(order).toEqual(['first done', 'second ran']);
  });

  it('keyed locks: one owner waits for itself, never for another owner', async () => {
    const { one, two, order, release } = await race(
      Lock.ApplicationsOf('owner-a'),
      Lock.ApplicationsOf('owner-b'),
    );
    await two;
    expect(order).toEqual(['second ran']);
    release();
    await one;
  });

  it('joins the caller’s transaction and holds the lock until it ends', async () => {
    await em.fork().transactional(async (tx) => {
      await withLock(Lock.HostRanges, tx, () => Promise.resolve());
      const [row] = await tx.execute<{ n: string }[]>(
        `select count(*) as n from pg_locks where locktype = 'advisory' and granted and pid = pg_backend_pid()`,
      );
      expect(Number(row.n)).toBe(1);
    });
  });
});
