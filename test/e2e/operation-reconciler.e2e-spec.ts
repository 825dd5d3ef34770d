import { getQueueToken } from '@nestjs/bull';
import { EntityManager } from '@mikro-orm/postgresql';
import type { Queue } from 'bull';
import { RECONCILE_OPERATIONS_JOB } from '../../src/maintenance/maintenance.processor';
import { DEPLOY_ABANDONED } from '../../src/applications/deploy/deploy-overdue.handler';
import { STATE_UNREADABLE } from '../../src/applications/lifecycle/lifecycle-overdue.handler';
import { OperationType } from '../../src/operations/operation.entity';
import { OverdueOperations } from '../../src/operations/overdue-operations';
import { QueueName } from '../../src/queue/queue-names';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, operationOf, settled } from '../support/deployments';
import { registerDeployHost } from '../support/hosts';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

/**
 * Operations past their deadline whose job is gone or failed are ended by the
 * maintenance reconciler: nothing stays transitional, nothing leaks, and
 * nothing is destroyed when Proxmox cannot be read.
 */
describe('operation reconciler', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let user: Session;
  let counter = 0;

  beforeAll(async () => {
    t = await startFreshApp();
    sim = await SimulatorFixture.start({ latency: { taskMs: 10, dhcpLeaseMs: 100 } });
    const admin = await loginAdmin(t);
    user = await createUser(t, admin);
    await registerDeployHost(t, admin, sim.sim, 'pve-reconciler', 600_000, [31_700, 31_749]);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });
  afterEach(async () => {
    await sim.control('DELETE', '/_sim/faults');
    await queue(QueueName.Deploy).resume();
  });

  const sql = () => t.app.get(EntityManager).getConnection();
  const queue = (name: string) => t.app.get<Queue>(getQueueToken(name));

  const request = async (): Promise<AppBody> => {
    counter += 1;
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname: `stuck-${counter}` });
    expect(res.status).toBe(202);
    return res.body as AppBody;
  };

  const read = async (id: string): Promise<AppBody> =>
    (await t.http().get(`/api/apps/${id}`).set(bearer(user))).body as AppBody;

  /** The operation began before its deadline (two hours ago). */
  const overdue = (operationId: string) =>
    sql().execute(`update operation set created_at = now() - interval '2 hours' where id = ?`, [
      operationId,
    ]);

  /** One run of the maintenance job, through the queue as its schedule runs it. */
  const reconcile = async () => {
    const job = await queue(QueueName.Maintenance).add(RECONCILE_OPERATIONS_JOB, {});
    await job.finished();
  };

  /** A deployed application turned back into a deployment interrupted at `step` whose job is gone. */
  const interruptedAt = async (step: string): Promise<AppBody> => {
    const app = await settled(t, user, (await request()).id);
    expect(app.status).toBe('running');
    const op = await operationOf(t, user, app.id);
    await (await queue(QueueName.Deploy).getJob(op.id))?.remove();
    await sql().execute(
      `update operation set status = 'running', step = ?, finished_at = null where id = ?`,
      [step, op.id],
    );
    await sql().execute(`update application set status = 'deploying', url = null where id = ?`, [
      app.id,
    ]);
    return app;
  };

  /** An action accepted on a running app whose job never ran (as if Redis lost it). */
  const lostAction = async (type: string, status: string) => {
    const app = await settled(t, user, (await request()).id);
    const [op] = await sql().execute<{ id: string }[]>(
      `insert into operation (id, type, status, application_id, created_at, updated_at)
       values (gen_random_uuid(), ?, 'queued', ?, now(), now()) returning id`,
      [type, app.id],
    );
    await sql().execute(`update application set status = ? where id = ?`, [status, app.id]);
    return { app, operationId: op.id };
  };

  const expectNothingLeft = async (app: AppBody) => {
    const state = await sim.state();
    expect(state.containers.filter((c) => c.hostname === app.hostname)).toEqual([]);
    expect(state.forwards.filter((f) => f.comment?.includes(app.id))).toEqual([]);
    expect(await sql().execute('select vmid from application where id = ?', [app.id])).toEqual([
      { vmid: null },
    ]);
    expect(
      await sql().execute('select port from port_allocation where application_id = ?', [app.id]),
    ).toEqual([]);
  };

  it('ends a deployment whose job was lost before it ran: error, nothing allocated', async () => {
    await queue(QueueName.Deploy).pause();
    const app = await request();
    const op = await operationOf(t, user, app.id);
    await (await queue(QueueName.Deploy).getJob(op.id))?.remove();
    await overdue(op.id);
    await reconcile();
    const after = await read(app.id);
    expect(after).toMatchObject({ status: 'error', lastError: DEPLOY_ABANDONED, operation: null });
    expect(await operationOf(t, user, app.id)).toMatchObject({
      status: 'failed',
      error: DEPLOY_ABANDONED,
    });
    await expectNothingLeft(app);
  });

  it('compensates a deployment interrupted after its container and rules were made', async () => {
    const app = await interruptedAt('verify');
    expect((await sim.state()).containers.filter((c) => c.vmid === app.vmid)).toHaveLength(1);
    await overdue((await operationOf(t, user, app.id)).id);
    await reconcile();
    expect(await read(app.id)).toMatchObject({ status: 'error', lastError: DEPLOY_ABANDONED });
    await expectNothingLeft(app);
    const logs = await t.http().get(`/api/apps/${app.id}/logs?limit=500`).set(bearer(user));
    const messages = (logs.body as { items: { message: string }[] }).items.map((l) => l.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        DEPLOY_ABANDONED,
        'remove_forwarding done',
        'destroy_container done',
      ]),
    );
  });

  it('leaves an overdue operation alone while its job is still queued', async () => {
    await queue(QueueName.Deploy).pause();
    const app = await request();
    await overdue((await operationOf(t, user, app.id)).id);
    await reconcile();
    expect(await read(app.id)).toMatchObject({ status: 'deploying' });
    expect(await operationOf(t, user, app.id)).toMatchObject({ status: 'queued' });
    await queue(QueueName.Deploy).resume();
    expect((await settled(t, user, app.id)).status).toBe('running');
  });

  it('leaves an operation within its deadline alone, even without a job', async () => {
    const app = await interruptedAt('verify');
    await reconcile();
    expect(await read(app.id)).toMatchObject({ status: 'deploying' });
    expect((await sim.state()).containers.filter((c) => c.vmid === app.vmid)).toHaveLength(1);
  });

  it('ends a lost stop with the state the container really has', async () => {
    const { app, operationId } = await lostAction('stop', 'stopping');
    await overdue(operationId);
    await reconcile();
    const message = 'the stop was interrupted and did not finish in time';
    expect(await read(app.id)).toMatchObject({
      status: 'running',
      lastError: message,
      operation: null,
      vmid: app.vmid,
    });
    const op = await t.http().get(`/api/operations/${operationId}`).set(bearer(user));
    expect(op.body).toMatchObject({ type: 'stop', status: 'failed', error: message });
  });

  it('shows error and destroys nothing when Proxmox cannot be read', async () => {
    const { app, operationId } = await lostAction('restart', 'restarting');
    await overdue(operationId);
    expect(
      (
        await sim.control('POST', '/_sim/faults', {
          rules: [{ method: 'GET', path: '/status/current$', status: 500 }],
        })
      ).status,
    ).toBe(201);
    await reconcile();
    expect(await read(app.id)).toMatchObject({
      status: 'error',
      lastError: `the restart was interrupted and did not finish in time; ${STATE_UNREADABLE}`,
      vmid: app.vmid,
    });
    const state = await sim.state();
    expect(state.containers.find((c) => c.vmid === app.vmid)?.status).toBe('running');
    expect(state.forwards.filter((f) => f.comment?.includes(app.id))).not.toEqual([]);
    expect(
      await sql().execute(
        'select count(*)::int as n from port_allocation where application_id = ?',
        [app.id],
      ),
    ).toEqual([{ n: app.ports.length }]);
  });

  it('has a handler for every operation type in a worker, so none is left transitional', () => {
    const registry = t.app.get(OverdueOperations);
    const missing = Object.values(OperationType).filter((type) => !registry.handlerOf(type));
    expect(missing).toEqual([]);
  });
});
