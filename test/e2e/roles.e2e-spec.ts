import { getQueueToken } from '@nestjs/bull';
import { EntityManager } from '@mikro-orm/postgresql';
import type { Queue } from 'bull';
import { PRUNE_CREDENTIALS_JOB } from '../../src/maintenance/maintenance.processor';
import { QueueName } from '../../src/queue/queue-names';
import { expectError } from '../support/expectations';
import { waitFor } from '../support/spawn-app';
import { resetState, startApp, testEnvironment, type TestApp } from '../support/test-app';
import { loginAdmin } from '../support/users';

describe('process roles', () => {
  const env = testEnvironment({}, 'roles');
  let api: TestApp;

  beforeAll(async () => {
    await resetState(env, 'roles');
    api = await startApp({ ...env, PROXIMITY_ROLE: 'api' });
  });
  afterAll(() => api?.close());

  const maintenanceQueue = (t: TestApp) => t.app.get<Queue>(getQueueToken(QueueName.Maintenance));

  it('the api role enqueues but never processes; a worker picks the job up', async () => {
    const admin = await loginAdmin(api);
    const sql = api.app.get(EntityManager).getConnection();
    await sql.execute(
      `update refresh_token set expires_at = now() - interval '2 days' where user_id = ?`,
      [admin.userId],
    );
    const job = await maintenanceQueue(api).add(PRUNE_CREDENTIALS_JOB, {});
    // Nothing can run it: no process has a worker connection on the queue
    // (Bull names each one in CLIENT LIST), and the job is still waiting.
    expect(await maintenanceQueue(api).getWorkers()).toEqual([]);
    expect(await job.getState()).toBe('waiting');

    const worker = await startApp({ ...env, PROXIMITY_ROLE: 'worker' });
    try {
      await waitFor(async () => (await maintenanceQueue(api).getWorkers()).length > 0);
      const state = await waitFor(async () => {
        const current = await maintenanceQueue(api).getJob(job.id);
        return (await current?.getState()) === 'completed' ? current : null;
      });
      expect(state?.returnvalue).toEqual({ refreshTokens: 1, apiTokens: 0 });
      const left = await sql.execute(
        'select count(*)::int as n from refresh_token where user_id = ?',
        [admin.userId],
      );
      expect(left).toEqual([{ n: 0 }]);
    } finally {
      await worker.close();
    }
  });

  it('a worker serves probes and metrics only', async () => {
    const worker = await startApp({ ...env, PROXIMITY_ROLE: 'worker' });
    try {
      expect((await worker.http().get('/health/ready')).status).toBe(200);
      expect((await worker.http().get('/metrics')).status).toBe(200);
      expectError(
        await worker.http().post('/api/auth/login').send({ username: 'admin', password: 'x' }),
        404,
      );
      expectError(await worker.http().get('/api/docs-json'), 404);
    } finally {
      await worker.close();
    }
  });
});
