import { EntityManager } from '@mikro-orm/postgresql';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { RECONCILE_OPERATIONS_JOB } from '../../src/maintenance/maintenance.processor';
import { DEPLOY_ABANDONED } from '../../src/applications/deploy/deploy-overdue.handler';
import { QueueName } from '../../src/queue/queue-names';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, operationOf, settled } from '../support/deployments';
import { registerDeployHost } from '../support/hosts';
import { spawnEntry, waitFor, type Spawned } from '../support/spawn-app';
import { resetState, startApp, testEnvironment, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const VARIANT = 'crash';

/**
 * A worker process killed (SIGKILL) in the middle of a deployment: once its
 * job lock expires, the stalled-job check hands the job to the next worker,
 * which resumes at the recorded step: the deployment completes with one
 * container. Short job locks here; production keeps Bull's 30 s.
 */
describe('a worker killed in the middle of a deployment', () => {
  const env = testEnvironment(
    { LOG_LEVEL: 'warn', JOB_LOCK_MS: '4000', JOB_STALLED_CHECK_MS: '1000' },
    VARIANT,
  );
  let api: TestApp;
  let sim: SimulatorFixture;
  let user: Session;

  beforeAll(async () => {
    await resetState(env, VARIANT);
    api = await startApp({ ...env, PROXIMITY_ROLE: 'api' });
    sim = await SimulatorFixture.start({ latency: { taskMs: 10, dhcpLeaseMs: 100 } });
    const admin = await loginAdmin(api);
    user = await createUser(api, admin);
    await registerDeployHost(api, admin, sim.sim, 'pve-crash', 700_000, [31_950, 31_999]);
  });
  afterEach(async () => {
    await sim.control('DELETE', '/_sim/faults');
  });
  afterAll(async () => {
    await api?.close();
    await sim?.close();
  });

  const sql = () => api.app.get(EntityManager).getConnection();
  const queue = (name: string) => api.app.get<Queue>(getQueueToken(name));
  /** On a missed deadline, the failure shows what the worker printed (it may not have started). */
  const watching = async <T>(run: Spawned, wait: Promise<T>): Promise<T> => {
    try {
      return await wait;
    } catch (err) {
      const output = `${run.stdout()}${run.stderr()}`.slice(-4000);
      throw new Error(`${(err as Error).message}; the worker printed:\n${output}`);
    }
  };
  /** The log lines that open an attempt, oldest first. */
  const attemptLines = async (appId: string): Promise<string[]> => {
    const logs = await api.http().get(`/api/apps/${appId}/logs?limit=500`).set(bearer(user));
    return (logs.body as { items: { message: string }[] }).items
      .map((l) => l.message)
      .filter((m) => m.startsWith('attempt '))
      .reverse();
  };
  const worker = (): Spawned =>
    spawnEntry('src/main.ts', { ...env, PROXIMITY_ROLE: 'worker', PORT: '0' });

  it('resumes on the next worker at the step it was in: running, one container', async () => {
    // The Docker install hangs the first time: the worker is killed while it waits.
    const fault = await sim.control('POST', '/_sim/faults', {
      rules: [{ sshCommand: 'apt-get', delayMs: 120_000, times: 1 }],
    });
    expect(fault.status).toBe(201);
    const first = worker();
    const res = await api
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname: 'survivor' });
    expect(res.status).toBe(202);
    const app = res.body as AppBody;
    await watching(
      first,
      waitFor(
        async () => (await operationOf(api, user, app.id)).step === 'install_docker',
        90_000,
        200,
      ),
    );
    first.child.kill('SIGKILL');
    await first.exited;

    const second = worker();
    const done = await watching(second, settled(api, user, app.id, 120_000));
    expect(done.status).toBe('running');
    // The interrupted attempt was resumed, not counted as a second one.
    expect(await operationOf(api, user, app.id)).toMatchObject({
      status: 'succeeded',
      attempts: 1,
    });
    expect(await attemptLines(app.id)).toEqual([
      'attempt 1 of 3',
      'attempt 1 of 3 resumes after its worker stopped',
    ]);
    const containers = (await sim.state()).containers.filter((c) => c.hostname === 'survivor');
    expect(containers).toHaveLength(1);
    expect(containers[0].vmid).toBe(done.vmid);
    expect((await fetch(done.url!)).status).toBe(200);
    const logs = await api.http().get(`/api/apps/${app.id}/logs?limit=500`).set(bearer(user));
    const messages = (logs.body as { items: { message: string }[] }).items.map((l) => l.message);
    expect(messages.filter((m) => m === 'create_container done')).toHaveLength(1);
    second.child.kill('SIGTERM');
    await second.exited;
  }, 300_000);

  it('a job whose workers die twice fails in Bull; the reconciler then leaves nothing behind', async () => {
    const fault = await sim.control('POST', '/_sim/faults', {
      rules: [{ sshCommand: 'apt-get', delayMs: 120_000, times: 2 }],
    });
    expect(fault.status).toBe(201);
    const res = await api
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname: 'twice-killed' });
    expect(res.status).toBe(202);
    const app = res.body as AppBody;
    for (const runs of [1, 2]) {
      const doomed = worker();
      await watching(
        doomed,
        waitFor(
          async () => {
            const op = await operationOf(api, user, app.id);
            return (
              (await attemptLines(app.id)).length === runs &&
              op.attempts === 1 &&
              op.step === 'install_docker'
            );
          },
          90_000,
          200,
        ),
      );
      doomed.child.kill('SIGKILL');
      await doomed.exited;
    }
    const survivor = worker();
    // Bull's stalled check, run by the survivor, fails the job: it stalled more than once.
    const job = await watching(
      survivor,
      waitFor(
        async () => {
          const found = await queue(QueueName.Deploy).getJob(app.operation!.id);
          return found && (await found.getState()) === 'failed' ? found : null;
        },
        90_000,
        200,
      ),
    );
    expect(job.failedReason).toContain('stalled');
    expect((await api.http().get(`/api/apps/${app.id}`).set(bearer(user))).body).toMatchObject({
      status: 'deploying',
    });

    await sql().execute(
      `update operation set created_at = now() - interval '2 hours' where id = ?`,
      [app.operation!.id],
    );
    await (await queue(QueueName.Maintenance).add(RECONCILE_OPERATIONS_JOB, {})).finished();
    const done = await settled(api, user, app.id);
    expect(done).toMatchObject({ status: 'error', lastError: DEPLOY_ABANDONED, vmid: null });
    expect(await operationOf(api, user, app.id)).toMatchObject({ status: 'failed', attempts: 1 });
    const state = await sim.state();
    expect(state.containers.filter((c) => c.hostname === 'twice-killed')).toEqual([]);
    expect(state.forwards.filter((f) => f.comment?.includes(app.id))).toEqual([]);
    expect(
      await sql().execute('select port from port_allocation where application_id = ?', [app.id]),
    ).toEqual([]);
    survivor.child.kill('SIGTERM');
    await survivor.exited;
  }, 300_000);
});
