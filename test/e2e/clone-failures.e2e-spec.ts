import { EntityManager } from '@mikro-orm/postgresql';
import { ApplicationAllocator } from '../../src/applications/allocation/application-allocator';
import { AppConfig } from '../../src/config/app-config';
import { CLONE_ABANDONED } from '../../src/applications/clone/clone.processor';
import { SourceSnapshot } from '../../src/applications/clone/source-snapshot';
import { temporarySnapshotName } from '../../src/applications/deploy/container-ownership';
import { ContainerSteps } from '../../src/applications/deploy/container.steps';
import { DeployPlanBuilder } from '../../src/applications/deploy/deploy-plan.builder';
import { Operation, OperationType } from '../../src/operations/operation.entity';
import { OverdueOperations } from '../../src/operations/overdue-operations';
import type { FaultRuleInput } from '../pve-simulator/faults/fault-rules';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, operationOf, reaches, settled } from '../support/deployments';
import { expectError } from '../support/expectations';
import { registerDeployHost } from '../support/hosts';
import { startApp, startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const UPSTREAM_TEXT = 'upstream-text-that-must-stay-in-the-server-log';

/**
 * A clone whose step fails for good ends in `error` with its logs, and
 * nothing else left: no temporary snapshot on the source, no new container,
 * rule, VMID or port. A failure that happens once is retried into a running
 * clone with one container.
 */
describe('clone failures', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let user: Session;
  let source: AppBody;
  let counter = 0;

  beforeAll(async () => {
    t = await startFreshApp({ PROXMOX_CALL_TIMEOUT_MS: '1000' });
    sim = await SimulatorFixture.start({ latency: { taskMs: 10, dhcpLeaseMs: 100 } });
    admin = await loginAdmin(t);
    user = await createUser(t, admin);
    await registerDeployHost(t, admin, sim.sim, 'pve-clone-failures', 645_000, [32_100, 32_149]);
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname: 'failing-source' });
    expect(res.status).toBe(202);
    source = await settled(t, user, (res.body as AppBody).id);
    expect(source.status).toBe('running');
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });
  afterEach(async () => {
    await sim.control('DELETE', '/_sim/faults');
  });

  const sql = () => t.app.get(EntityManager).getConnection();

  const clone = async (): Promise<AppBody> => {
    counter += 1;
    const res = await t
      .http()
      .post(`/api/apps/${source.id}/clone`)
      .set(bearer(user))
      .send({ hostname: `failing-copy-${counter}` });
    expect(res.status).toBe(202);
    return res.body as AppBody;
  };

  const inject = async (rules: FaultRuleInput[]) => {
    expect((await sim.control('POST', '/_sim/faults', { rules })).status).toBe(201);
  };

  /** Nothing of the clone is left, and the source is as it was. */
  const expectNothingLeft = async (app: AppBody) => {
    const state = await sim.state();
    expect(state.containers.filter((c) => c.hostname === app.hostname)).toEqual([]);
    expect(state.containers.filter((c) => c.vmid === app.vmid)).toEqual([]);
    expect(state.forwards.filter((f) => f.comment?.includes(app.id))).toEqual([]);
    expect(state.containers.find((c) => c.vmid === source.vmid)).toMatchObject({
      status: 'running',
      snapshots: [],
      locked: null,
    });
    const rows = await sql().execute<{ vmid: number | null }[]>(
      'select vmid from application where id = ?',
      [app.id],
    );
    expect(rows).toEqual([{ vmid: null }]);
    const ports = await sql().execute('select port from port_allocation where application_id = ?', [
      app.id,
    ]);
    expect(ports).toEqual([]);
    expect((await fetch(source.url!)).status).toBe(200);
  };

  // Command lines arrive quoted (twice, through the hop to the node): patterns allow for the quotes.
  const steps: [string, string, FaultRuleInput][] = [
    [
      'snapshot_source',
      'a failed task',
      { method: 'POST', path: '/lxc/\\d+/snapshot$', failTask: UPSTREAM_TEXT },
    ],
    [
      'clone_container',
      'HTTP 500',
      { method: 'POST', path: '/clone$', status: 500, message: UPSTREAM_TEXT },
    ],
    [
      'start_container',
      'a failed task',
      { method: 'POST', path: '/status/start$', failTask: UPSTREAM_TEXT },
    ],
    ['verify', 'a dropped SSH connection', { sshCommand: 'ps.{1,12}-a', dropConnection: true }],
  ];

  it.each(steps)(
    'a permanent failure of %s (%s) ends in error with its logs, nothing left',
    async (step, _how, rule) => {
      await inject([rule]);
      const app = await clone();
      const done = (await reaches(t, user, app.id, ['running', 'error']))!;
      expect(done.status).toBe('error');
      expect(done.lastError).toEqual(expect.any(String));
      expect(done.lastError).not.toContain(UPSTREAM_TEXT);
      const op = await operationOf(t, user, app.id);
      expect(op).toMatchObject({ status: 'failed', maxAttempts: 3, step });
      expect(op.error).toBe(done.lastError);
      await expectNothingLeft(app);
      const logs = await t.http().get(`/api/apps/${app.id}/logs?limit=500`).set(bearer(user));
      expect(logs.status).toBe(200);
      const messages = (logs.body as { items: { message: string }[] }).items.map((l) => l.message);
      expect(messages.filter((m) => m.startsWith(`${step} failed`)).length).toBeGreaterThan(0);
      expect(messages).toContain('remove_snapshot done');
      expect(messages).toContain('destroy_container done');
      expect(JSON.stringify(logs.body)).not.toContain(UPSTREAM_TEXT);
      if (rule.method) {
        // Proxmox's own text reaches the server log, with the operation id, and nowhere else.
        const raw = t.logs.entries().filter((e) => e.operationId === op.id && e.failure);
        expect(JSON.stringify(raw)).toContain(UPSTREAM_TEXT);
      }
    },
  );

  it('a clone failure that happens once is retried into a running clone with one container', async () => {
    await inject([{ method: 'POST', path: '/clone$', status: 500, times: 1 }]);
    const app = await clone();
    const done = (await reaches(t, user, app.id, ['running', 'error']))!;
    expect(done.status).toBe('running');
    expect(await operationOf(t, user, app.id)).toMatchObject({ status: 'succeeded', attempts: 2 });
    const state = await sim.state();
    expect(state.containers.filter((c) => c.hostname === app.hostname)).toHaveLength(1);
    expect(state.containers.find((c) => c.vmid === source.vmid)?.snapshots).toEqual([]);
    expect((await fetch(done.url!)).status).toBe(200);
  });

  it('a VMID taken by another guest after the pick is replaced by a free one', async () => {
    // The clone request waits a moment: time for a guest from outside to take the VMID.
    await inject([{ method: 'POST', path: '/clone$', delayMs: 1000, times: 1 }]);
    const app = await clone();
    const guest = await sim.control('POST', '/_sim/guests', {
      node: 'pve1',
      vmid: app.vmid,
      hostname: 'intruder',
    });
    expect(guest.status).toBe(201);
    const done = (await reaches(t, user, app.id, ['running', 'error']))!;
    expect(done.status).toBe('running');
    expect(done.vmid).not.toBe(app.vmid);
    const state = await sim.state();
    expect(state.containers.filter((c) => c.vmid === app.vmid).map((c) => c.hostname)).toEqual([
      'intruder',
    ]);
    expect(state.containers.find((c) => c.vmid === source.vmid)?.snapshots).toEqual([]);
    expect((await fetch(done.url!)).status).toBe(200);
  });

  it('removes the snapshot once a lock on the source is gone', async () => {
    // The first delete meets the source still locked, as after a clone task that just ended.
    await inject([
      {
        method: 'DELETE',
        path: '/snapshot/prx[0-9a-f]+$',
        failTask: 'CT is locked (disk)',
        times: 1,
      },
    ]);
    const done = (await reaches(t, user, (await clone()).id, ['running', 'error']))!;
    expect(done.status).toBe('running');
    expect(await operationOf(t, user, done.id)).toMatchObject({ attempts: 1 });
    expect((await sim.state()).containers.find((c) => c.vmid === source.vmid)?.snapshots).toEqual(
      [],
    );
  });

  it('the overdue handler of a clone whose job was lost undoes what it left', async () => {
    const handler = t.app.get(OverdueOperations).handlerOf(OperationType.Clone)!;
    expect(handler.deadlineMs(OperationType.Clone)).toBe(
      t.app.get(AppConfig).jobs.deployDeadlineMs,
    );
    // A clone allocated, then left half done by a worker that died: the snapshot and the new container remain.
    const { application, operation } = await t.app.get(ApplicationAllocator).allocate({
      ownerId: user.userId,
      actorId: user.userId,
      hostId: (
        await sql().execute<{ id: string }[]>(
          'select host_id as id from application where id = ?',
          [source.id],
        )
      )[0].id,
      node: 'pve1',
      catalogId: 'whoami',
      name: 'lost',
      hostname: 'lost-copy',
      resources: { cores: 1, memoryMb: 512, diskGb: 4, swapMb: 0 },
      environment: {},
      secretEnvironment: {},
      ports: [{ name: 'web', containerPort: 80, protocol: 'tcp' }],
      rootPassword: 'lost-root-password',
      clusterVmids: (await sim.state()).containers.map((c) => c.vmid),
      cloneOf: source.id,
    });
    const { plan } = await t.app.get(DeployPlanBuilder).build(application.id);
    const snapshot = temporarySnapshotName(operation.id);
    await t.app
      .get(SourceSnapshot)
      .take({ target: plan.target, source: { node: 'pve1', vmid: source.vmid! }, name: snapshot });
    await t.app.get(ContainerSteps).cloneContainer({
      target: plan.target,
      applicationId: application.id,
      vmid: plan.vmid,
      sourceVmid: source.vmid!,
      hostname: 'lost-copy',
      storage: plan.container.storage,
      snapshot,
    });
    const before = await sim.state();
    expect(before.containers.find((c) => c.vmid === source.vmid)?.snapshots).toEqual([snapshot]);
    expect(before.containers.some((c) => c.vmid === plan.vmid)).toBe(true);

    const op = await t.app.get(EntityManager).fork().findOneOrFail(Operation, { id: operation.id });
    await handler.end(op);

    await expectNothingLeft({
      id: application.id,
      hostname: 'lost-copy',
      vmid: plan.vmid,
    } as AppBody);
    const done = await t.http().get(`/api/apps/${application.id}`).set(bearer(user));
    expect(done.body).toMatchObject({ status: 'error', lastError: CLONE_ABANDONED });
    expect(await operationOf(t, user, application.id)).toMatchObject({
      status: 'failed',
      error: CLONE_ABANDONED,
    });
  });

  it('answers 503 with nothing allocated when Redis is unreachable', async () => {
    const cut = await startApp({ ...t.env, REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const res = await cut
        .http()
        .post(`/api/apps/${source.id}/clone`)
        .set(bearer(user))
        .send({ hostname: 'no-queue-copy' });
      expectError(res, 503);
      const rows = await sql().execute(
        "select id from application where hostname = 'no-queue-copy'",
      );
      expect(rows).toEqual([]);
    } finally {
      await cut.close();
    }
  });
});
