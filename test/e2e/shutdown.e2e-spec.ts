import { EntityManager } from '@mikro-orm/postgresql';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import Redis from 'ioredis';
import { connect, type Socket } from 'node:net';
import { Client } from 'pg';
import { PRUNE_CREDENTIALS_JOB } from '../../src/maintenance/maintenance.processor';
import { QueueName } from '../../src/queue/queue-names';
import { freePort } from '../support/free-port';
import { spawnEntry, waitFor, type Spawned } from '../support/spawn-app';
import { resetState, startApp, testEnvironment, type TestApp } from '../support/test-app';

const SHUTDOWN_TIMEOUT_MS = 2000;
/** How long a test waits for the process to go: far past the deadline under test. */
const EXIT_WAIT_MS = 30_000;

async function startProcess(env: NodeJS.ProcessEnv): Promise<{ run: Spawned; port: number }> {
  const port = await freePort();
  const run = spawnEntry('src/main.ts', { ...env, PORT: String(port), HOST: '127.0.0.1' });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok, 45_000);
  return { run, port };
}

/** The exit code, once the process has exited; fails the test if it is still running at the deadline. */
async function exitCode(run: Spawned): Promise<number | null> {
  await waitFor(
    () => Promise.resolve(run.child.exitCode !== null || run.child.signalCode !== null),
    EXIT_WAIT_MS,
  );
  return run.child.exitCode;
}

describe('shutdown deadline (SHUTDOWN_TIMEOUT_MS)', () => {
  it('a shutdown held up by a request that never completes ends at the deadline, exit code 1', async () => {
    const env = testEnvironment(
      { LOG_LEVEL: 'warn', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) },
      'deadline',
    );
    await resetState(env, 'deadline');
    const { run, port } = await startProcess(env);
    // Headers sent, the announced body never arrives: the server waits for it.
    const socket: Socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    try {
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.write(
        'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user',
      );
      run.child.kill('SIGTERM');
      expect(await exitCode(run)).toBe(1);
    } finally {
      socket.destroy();
    }
  });

  describe('a worker stopped with a job in progress', () => {
    const env = testEnvironment(
      {
        LOG_LEVEL: 'warn',
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        // The blocked statement must outlive the test, not be cancelled by it.
        DATABASE_STATEMENT_TIMEOUT_MS: '120000',
      },
      'jobstop',
    );
    let api: TestApp;
    let blocker: Client;

    beforeAll(async () => {
      await resetState(env, 'jobstop');
      api = await startApp({ ...env, PROXIMITY_ROLE: 'api' });
      blocker = new Client({ connectionString: env.DATABASE_URL });
      await blocker.connect();
    });
    afterAll(async () => {
      await blocker?.end();
      await api?.close();
    });

    it('exits at the deadline and leaves the job for a retry, not lost', async () => {
      const queue = api.app.get<Queue>(getQueueToken(QueueName.Maintenance));
      // The prune job's DELETE waits on this lock: the job is in progress and cannot finish.
      await blocker.query('begin');
      await blocker.query('lock table refresh_token in access exclusive mode');
      const { run } = await startProcess({ ...env, PROXIMITY_ROLE: 'worker' });
      const job = await queue.add(PRUNE_CREDENTIALS_JOB, {});
      await waitFor(async () => (await job.getState()) === 'active');
      // Asked on another connection: inside the blocker's transaction the view is a snapshot.
      const sql = api.app.get(EntityManager).getConnection();
      await waitFor(async () => {
        const rows = await sql.execute<{ n: number }[]>(
          `select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and query ilike 'delete%'`,
        );
        return rows[0].n === 1;
      });

      run.child.kill('SIGTERM');
      expect(await exitCode(run)).toBe(1);
      await blocker.query('rollback');

      // Not failed, not removed: still active, under the dead worker's lock.
      // When that lock expires, Bull's stalled-job check hands it to another worker.
      const stored = await queue.getJob(job.id);
      expect(await stored?.getState()).toBe('active');
      expect(stored?.attemptsMade).toBe(0);
      const redis = new Redis(env.REDIS_URL ?? '');
      try {
        const lockTtl = await redis.pttl(
          `${env.REDIS_PREFIX}:bull:${QueueName.Maintenance}:${job.id}:lock`,
        );
        expect(lockTtl).toBeGreaterThan(0);
      } finally {
        redis.disconnect();
      }
    });
  });
});
