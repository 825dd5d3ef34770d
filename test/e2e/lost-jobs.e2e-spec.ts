import { EntityManager } from '@mikro-orm/postgresql';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { DEPLOY_ABANDONED } from '../../src/applications/deploy/deploy-overdue.handler';
import { JOB_LOST } from '../../src/maintenance/lost-job-requeuer';
import { RECONCILE_OPERATIONS_JOB } from '../../src/maintenance/maintenance.processor';
import { QueueName } from '../../src/queue/queue-names';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, operationOf, settled } from '../support/deployments';
import { registerDeployHost } from '../support/hosts';
import { sample, scrape } from '../support/metrics-text';
import { resetState, startApp, testEnvironment, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const VARIANT = 'lostjobs';

/**
 * Redis restarted without its data: deployments whose Bull job vanished are
 * put back on their queue by the every-minute operations pass, well before
 * their deadline, and resume with the attempts they had left. The API runs
 * without a worker so the jobs wait until they are removed.
 */
describe('operations whose job the queue lost', () => {
  // A grace far above this test's run: only the operations it backdates are old enough.
  const env = testEnvironment({ OPERATION_REQUEUE_GRACE_SECONDS: '600' }, VARIANT);
  let api: TestApp;
  let worker: TestApp | undefined;
  let sim: SimulatorFixture;
  let user: Session;

  beforeAll(async () => {
    await resetState(env, VARIANT);
    api = await startApp({ ...env, PROXIMITY_ROLE: 'api' });
    sim = await SimulatorFixture.start({ latency: { taskMs: 10, dhcpLeaseMs: 100 } });
    const admin = await loginAdmin(api);
    user = await createUser(api, admin);
    await registerDeployHost(api, admin, sim.sim, 'pve-lost', 687_000, [32_450, 32_499]);
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await sim?.close();
  });

  const sql = () => api.app.get(EntityManager).getConnection();
  const deployQueue = () => api.app.get<Queue>(getQueueToken(QueueName.Deploy));

  const request = async (hostname: string): Promise<AppBody> => {
    const res = await api
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname });
    expect(res.status).toBe(202);
    return res.body as AppBody;
  };

  /** Requested ten minutes ago: past the grace period, far from the one-hour deadline. */
  const backdate = (operationId: string) =>
    sql().execute(
      `update operation set created_at = now() - interval '10 minutes',
         updated_at = now() - interval '10 minutes' where id = ?`,
      [operationId],
    );

  const loseJob = async (operationId: string) => {
    const job = await deployQueue().getJob(operationId);
    expect(job).not.toBeNull();
    await job!.remove();
  };

  const messages = async (appId: string): Promise<string[]> => {
    const res = await api.http().get(`/api/apps/${appId}/logs?limit=500`).set(bearer(user));
    return (res.body as { items: { message: string }[] }).items.map((l) => l.message).reverse();
  };

  const attemptLines = async (appId: string) =>
    (await messages(appId)).filter((m) => m.startsWith('attempt '));

  it('puts back lost jobs so the deployments resume, keeping their attempts', async () => {
    const queued = await request('lost-queued');
    const running = await request('lost-running');
    const kept = await request('job-kept');
    const young = await request('lost-young');
    const busy = await request('lost-busy');
    const overdue = await request('lost-overdue');
    const ops = {
      queued: (await operationOf(api, user, queued.id)).id,
      running: (await operationOf(api, user, running.id)).id,
      kept: (await operationOf(api, user, kept.id)).id,
      young: (await operationOf(api, user, young.id)).id,
      busy: (await operationOf(api, user, busy.id)).id,
      overdue: (await operationOf(api, user, overdue.id)).id,
    };
    for (const id of [ops.queued, ops.running, ops.kept, ops.busy]) await backdate(id);
    for (const id of [ops.queued, ops.running, ops.young, ops.busy, ops.overdue]) {
      await loseJob(id);
    }
    // Past the one-hour deadline: the reconciler ends it rather than resume it.
    await sql().execute(
      `update operation set created_at = now() - interval '2 hours',
         updated_at = now() - interval '2 hours' where id = ?`,
      [ops.overdue],
    );
    // It was in its second attempt when the queue lost its job.
    await sql().execute(
      `update operation set status = 'running', attempts = 2,
         started_at = now() - interval '10 minutes' where id = ?`,
      [ops.running],
    );
    // A worker recorded its step just now: it may still be running it without the job.
    await sql().execute(
      `update operation set status = 'running', attempts = 1, step = 'create_container',
         started_at = now(), updated_at = now() where id = ?`,
      [ops.busy],
    );

    // Held (paused) until the pass is over, so the kept job is still waiting to run then.
    await deployQueue().pause();
    worker = await startApp({ ...env, PROXIMITY_ROLE: 'worker' });
    const maintenance = api.app.get<Queue>(getQueueToken(QueueName.Maintenance));
    await (await maintenance.add(RECONCILE_OPERATIONS_JOB, {})).finished();
    expect(await deployQueue().getJobCounts()).toMatchObject({ active: 0, completed: 0 });
    await deployQueue().resume();

    for (const app of [queued, running, kept]) {
      expect((await settled(api, user, app.id)).status).toBe('running');
    }
    expect(await operationOf(api, user, queued.id)).toMatchObject({
      status: 'succeeded',
      attempts: 1,
    });
    expect(await operationOf(api, user, running.id)).toMatchObject({
      status: 'succeeded',
      attempts: 2,
    });
    const runningLog = await messages(running.id);
    expect(runningLog).toContain(JOB_LOST);
    expect(runningLog.filter((m) => m.startsWith('attempt '))).toEqual([
      'attempt 2 of 3 resumes after its worker stopped',
    ]);
    expect(await messages(queued.id)).toContain(JOB_LOST);
    expect(await attemptLines(queued.id)).toEqual(['attempt 1 of 3']);

    // Its job was still waiting: not put back, run once.
    expect(await messages(kept.id)).not.toContain(JOB_LOST);
    expect(await attemptLines(kept.id)).toEqual(['attempt 1 of 3']);
    expect(await operationOf(api, user, kept.id)).toMatchObject({
      status: 'succeeded',
      attempts: 1,
    });

    // Younger than the grace period: its request may still be enqueueing.
    expect(await deployQueue().getJob(ops.young)).toBeNull();
    expect(await operationOf(api, user, young.id)).toMatchObject({
      status: 'queued',
      attempts: 0,
    });
    expect(await messages(young.id)).not.toContain(JOB_LOST);
    expect(await deployQueue().getJob(ops.busy)).toBeNull();
    expect(await operationOf(api, user, busy.id)).toMatchObject({
      status: 'running',
      attempts: 1,
    });
    expect(await messages(busy.id)).not.toContain(JOB_LOST);
    expect((await settled(api, user, overdue.id)).lastError).toBe(DEPLOY_ABANDONED);
    expect(await messages(overdue.id)).not.toContain(JOB_LOST);

    const metrics = await scrape(worker);
    expect(sample(metrics, 'proximity_operations_requeued_total', { type: 'deploy' })).toBe(2);
  }, 300_000);
});
