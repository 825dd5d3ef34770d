import { EntityManager } from '@mikro-orm/postgresql';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { PRUNE_CREDENTIALS_JOB } from '../../src/maintenance/maintenance.processor';
import { DEFAULT_ATTEMPTS } from '../../src/queue/queue.module';
import { MaintenanceJobs } from '../../src/maintenance/maintenance-jobs';
import { QueueName } from '../../src/queue/queue-names';
import { RETRY_BASE_MS } from '../../src/queue/retry-backoff';
import { waitFor } from '../support/spawn-app';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, loginAdmin } from '../support/users';

describe('queues on real Redis', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startFreshApp({}, 'queues');
  });
  afterAll(() => t?.close());

  const maintenance = () => t.app.get<Queue>(getQueueToken(QueueName.Maintenance));

  it('retries a failing job with the configured attempts and backoff', async () => {
    const queue = maintenance();
    const starts: number[] = [];
    // A job type of its own, run by the application's maintenance worker: the queue's defaults apply.
    t.app.get(MaintenanceJobs).register('always-fails', () => {
      starts.push(Date.now());
      return Promise.reject(new Error('always fails'));
    });
    const job = await queue.add('always-fails', {});
    const failed = await waitFor(async () => {
      const current = await queue.getJob(job.id);
      return (await current?.getState()) === 'failed' ? current : null;
    }, 30_000);

    expect(failed.attemptsMade).toBe(DEFAULT_ATTEMPTS);
    expect(starts).toHaveLength(DEFAULT_ATTEMPTS);
    // Bull never runs a delayed retry early: each gap is at least the lower
    // bound of the jittered backoff for that attempt (half its ceiling).
    for (let attempt = 1; attempt < DEFAULT_ATTEMPTS; attempt += 1) {
      const ceiling = RETRY_BASE_MS * 2 ** (attempt - 1);
      expect(starts[attempt] - starts[attempt - 1]).toBeGreaterThanOrEqual(ceiling / 2);
    }
  });

  it('prunes credentials only once they are a day past their expiry', async () => {
    const admin = await loginAdmin(t);
    const sql = t.app.get(EntityManager).getConnection();
    const tokenIds: string[] = [];
    for (const name of ['long-expired', 'just-expired', 'live']) {
      const res = await t.http().post('/api/auth/tokens').set(bearer(admin)).send({ name });
      expect(res.status).toBe(201);
      tokenIds.push(res.body.id as string);
    }
    for (let i = 0; i < 2; i += 1) await loginAdmin(t);
    const sessions = await sql.execute<{ id: string }[]>(
      'select id from refresh_token where user_id = ? order by created_at',
      [admin.userId],
    );
    expect(sessions).toHaveLength(3);
    const expire = async (table: string, id: string, ago: string) =>
      sql.execute(`update ${table} set expires_at = now() - ?::interval where id = ?`, [ago, id]);
    // Two days past expiry: pruned. Twenty-three hours past: kept (grace of a day).
    await expire('api_token', tokenIds[0], '2 days');
    await expire('api_token', tokenIds[1], '23 hours');
    await expire('refresh_token', sessions[0].id, '2 days');
    await expire('refresh_token', sessions[1].id, '23 hours');

    const job = await maintenance().add(PRUNE_CREDENTIALS_JOB, {});
    const done = await waitFor(async () => {
      const current = await maintenance().getJob(job.id);
      return (await current?.getState()) === 'completed' ? current : null;
    });
    expect(done.returnvalue).toEqual({ refreshTokens: 1, apiTokens: 1 });
    const left = async (table: string) =>
      (await sql.execute<{ id: string }[]>(`select id from ${table} order by id`)).map((r) => r.id);
    expect(await left('api_token')).toEqual([tokenIds[1], tokenIds[2]].sort());
    expect(await left('refresh_token')).toEqual([sessions[1].id, sessions[2].id].sort());
  });

  it('puts back the maintenance timers Redis lost, one per job', async () => {
    const queue = maintenance();
    const timers = async () =>
      (await queue.getRepeatableJobs()).map((j) => `${j.name} ${j.cron}`).sort();
    const expected = [
      'prune-expired-credentials 17 * * * *',
      'reconcile */5 * * * *',
      'reconcile-operations * * * * *',
      'sync-backup-schedules * * * * *',
    ];
    await waitFor(async () => (await timers()).length === expected.length, 10_000);
    for (const job of await queue.getRepeatableJobs()) await queue.removeRepeatableByKey(job.key);
    expect(await timers()).toEqual([]);
    await t.app.get(MaintenanceJobs).ensureTimers();
    await t.app.get(MaintenanceJobs).ensureTimers();
    expect(await timers()).toEqual(expected);
  });
});
