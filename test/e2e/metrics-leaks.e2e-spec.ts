import { EntityManager } from '@mikro-orm/postgresql';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { Reconciler } from '../../src/maintenance/reconciler';
import { QueueName } from '../../src/queue/queue-names';
import type { FaultRuleInput } from '../pve-simulator/faults/fault-rules';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, operationOf, settled } from '../support/deployments';
import { registerDeployHost } from '../support/hosts';
import { sample, scrape } from '../support/metrics-text';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const HOST = 'pve-metrics';
const KINDS = ['allocation', 'rule', 'container', 'snapshot', 'vanished_guest'];

/**
 * What /metrics shows of leaks and failures: the gauges of the last reconcile
 * pass, the retry and compensation counters, and the port pool usage.
 */
describe('metrics: leaks and failures', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let user: Session;
  let hostId: string;
  let counter = 0;

  beforeAll(async () => {
    t = await startFreshApp();
    sim = await SimulatorFixture.start({ latency: { taskMs: 10, dhcpLeaseMs: 100 } });
    admin = await loginAdmin(t);
    user = await createUser(t, admin);
    hostId = await registerDeployHost(t, admin, sim.sim, HOST, 690_000, [32_600, 32_619]);
    // A scheduled pass would take part of the planted work and change the gauges under test.
    await queue(QueueName.Maintenance).pause();
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });
  afterEach(async () => {
    await sim.control('DELETE', '/_sim/faults');
  });

  const sql = () => t.app.get(EntityManager).getConnection();
  const queue = (name: string) => t.app.get<Queue>(getQueueToken(name));

  const inject = async (rules: FaultRuleInput[]) => {
    expect((await sim.control('POST', '/_sim/faults', { rules })).status).toBe(201);
  };

  const deploy = async (): Promise<AppBody> => {
    counter += 1;
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname: `metrics-${counter}` });
    expect(res.status).toBe(202);
    return settled(t, user, (res.body as AppBody).id);
  };

  const counters = async () => {
    const text = await scrape(t);
    return {
      retries: sample(text, 'proximity_operation_retries_total', { type: 'deploy' }) ?? 0,
      compensations:
        sample(text, 'proximity_operation_compensations_total', { type: 'deploy' }) ?? 0,
      succeeded:
        sample(text, 'proximity_operations_total', { type: 'deploy', outcome: 'succeeded' }) ?? 0,
      failed:
        sample(text, 'proximity_operations_total', { type: 'deploy', outcome: 'failed' }) ?? 0,
    };
  };

  it('a failure that happens once counts one retry and a success, no compensation', async () => {
    const before = await counters();
    await inject([{ method: 'POST', path: '/status/start$', status: 500, times: 1 }]);
    const app = await deploy();
    expect(app.status).toBe('running');
    expect((await operationOf(t, user, app.id)).attempts).toBe(2);
    expect(await counters()).toEqual({
      ...before,
      retries: before.retries + 1,
      succeeded: before.succeeded + 1,
    });
  });

  it('a permanent failure counts its retries, one compensation and a failure', async () => {
    const before = await counters();
    await inject([{ method: 'POST', path: '/nodes/[^/]+/lxc$', failTask: 'disk full' }]);
    const app = await deploy();
    expect(app.status).toBe('error');
    const op = await operationOf(t, user, app.id);
    expect(op).toMatchObject({ status: 'failed', attempts: op.maxAttempts });
    expect(await counters()).toEqual({
      retries: before.retries + op.maxAttempts - 1,
      compensations: before.compensations + 1,
      succeeded: before.succeeded,
      failed: before.failed + 1,
    });
    const state = await sim.state();
    expect(state.containers.filter((c) => c.hostname === app.hostname)).toEqual([]);
    expect(
      await sql().execute('select port from port_allocation where application_id = ?', [app.id]),
    ).toEqual([]);
  });

  it('the gauges show what the last reconcile pass found, and a clean pass resets them', async () => {
    const running = await deploy();
    expect(running.status).toBe('running');
    // A deployment that failed but crashed before giving its ports back.
    await queue(QueueName.Deploy).pause();
    counter += 1;
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname: `metrics-${counter}` });
    const leaked = res.body as AppBody;
    const leakedOp = await operationOf(t, user, leaked.id);
    await (await queue(QueueName.Deploy).getJob(leakedOp.id))?.remove();
    await queue(QueueName.Deploy).resume();
    await sql().execute(
      `update operation set status = 'failed', finished_at = now() where id = ?`,
      [leakedOp.id],
    );
    await sql().execute(`update application set status = 'error', vmid = null where id = ?`, [
      leaked.id,
    ]);
    // A stop accepted two hours ago whose job was lost.
    await sql().execute(
      `insert into operation (id, type, status, application_id, created_at, updated_at)
       values (gen_random_uuid(), 'stop', 'queued', ?, now() - interval '2 hours', now())`,
      [running.id],
    );
    await sql().execute(`update application set status = 'stopping' where id = ?`, [running.id]);

    const before = Date.now() / 1000;
    const summary = await t.app.get(Reconciler).reconcile();
    expect(summary).toMatchObject({ ended: 1, allocationsRemoved: leaked.ports.length });
    expect(leaked.ports.length).toBeGreaterThan(0);

    const gauges = (text: string) => ({
      orphans: Object.fromEntries(
        KINDS.map((kind) => [kind, sample(text, 'proximity_orphans_found', { kind, host: HOST })]),
      ),
      overdue: sample(text, 'proximity_operations_overdue'),
      skipped: sample(text, 'proximity_reconcile_hosts_skipped'),
      lastRun: sample(text, 'proximity_reconcile_last_run_timestamp_seconds') ?? 0,
    });
    const found = gauges(await scrape(t));
    expect(found).toEqual({
      orphans: {
        allocation: leaked.ports.length,
        rule: 0,
        container: 0,
        snapshot: 0,
        vanished_guest: 0,
      },
      overdue: 1,
      skipped: 0,
      lastRun: expect.any(Number),
    });
    expect(found.lastRun).toBeGreaterThanOrEqual(Math.floor(before));

    await t.app.get(Reconciler).reconcile();
    expect(gauges(await scrape(t))).toMatchObject({
      orphans: { allocation: 0, rule: 0, container: 0, snapshot: 0, vanished_guest: 0 },
      overdue: 0,
    });
    // Nothing leaked: the failed deployment holds no port, and every rule has its allocation.
    expect(
      await sql().execute('select port from port_allocation where application_id = ?', [leaked.id]),
    ).toEqual([]);
    const held = await sql().execute<{ port: number }[]>(
      'select port from port_allocation order by port',
    );
    const forwarded = (await sim.state()).forwards.map((f) => f.publicPort).sort((a, b) => a - b);
    expect(forwarded).toEqual(held.map((r) => r.port));
  });

  it('a host the pass cannot list is counted as skipped and has no orphan series', async () => {
    await inject([{ status: 596 }]);
    const summary = await t.app.get(Reconciler).reconcile();
    expect(summary.hostsSkipped).toHaveLength(1);
    const text = await scrape(t);
    expect(sample(text, 'proximity_reconcile_hosts_skipped')).toBe(1);
    expect(text).not.toContain('proximity_orphans_found{');
  });

  it('the port pool gauges match GET /api/ports', async () => {
    const res = await t.http().get(`/api/ports?hostId=${hostId}`).set(bearer(admin));
    expect(res.status).toBe(200);
    const [range] = (res.body as { ranges: { min: number; max: number; used: number }[] }).ranges;
    expect(range.used).toBeGreaterThan(0);
    const text = await scrape(t);
    expect({
      used: sample(text, 'proximity_port_pool_used', { host: HOST }),
      size: sample(text, 'proximity_port_pool_size', { host: HOST }),
    }).toEqual({ used: range.used, size: range.max - range.min + 1 });
  });
});
