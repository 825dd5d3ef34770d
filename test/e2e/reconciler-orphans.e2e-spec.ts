import { EntityManager } from '@mikro-orm/postgresql';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import {
  applicationDescription,
  applicationTag,
  temporarySnapshotName,
} from '../../src/applications/deploy/container-ownership';
import { Lock, withLock } from '../../src/database/locks';
import { CLEANUP_FAILED } from '../../src/applications/deploy/deploy-compensation';
import { GUEST_VANISHED, HOST_UNREADABLE } from '../../src/maintenance/orphan-reconciler';
import { Reconciler, type ReconcileSummary } from '../../src/maintenance/reconciler';
import { ForwardingRules } from '../../src/ports/forwarding-rules';
import { HostsService } from '../../src/proxmox/hosts/hosts.service';
import { ProxmoxHost } from '../../src/proxmox/hosts/proxmox-host.entity';
import { QueueName } from '../../src/queue/queue-names';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, operationOf, settled } from '../support/deployments';
import { registerDeployHost } from '../support/hosts';
import { spawnEntry, waitFor } from '../support/spawn-app';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const VMID_MIN = 660_000;
// Guests made behind Proximity's back, in the host's range but above what deployments take.
const ORPHAN_VMID = 660_900;
const FOREIGN_VMID = 660_901;
const TAGGED_ONLY_VMID = 660_902;
const STRAY_PORT = 32_445;

const NOTHING: Omit<ReconcileSummary, 'hostsSkipped'> = {
  ended: 0,
  allocationsRemoved: 0,
  rulesRemoved: 0,
  containersDestroyed: 0,
  snapshotsDeleted: 0,
  guestsVanished: 0,
};

/**
 * One reconcile pass removes what outlived its application (allocations,
 * forwarding rules, containers, temporary snapshots), ends stuck operations
 * and marks applications whose container vanished; live applications and
 * guests without our marks are untouched, and a host that cannot be listed
 * is left exactly as it is.
 */
describe('reconciler: orphans', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let user: Session;
  let hostId: string;
  let counter = 0;

  beforeAll(async () => {
    t = await startFreshApp();
    sim = await SimulatorFixture.start({ latency: { taskMs: 10, dhcpLeaseMs: 100 } });
    const admin = await loginAdmin(t);
    user = await createUser(t, admin);
    hostId = await registerDeployHost(t, admin, sim.sim, 'pve-orphans', VMID_MIN, [32_400, 32_439]);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });
  // The scheduled passes would take part of the work and split the counts of the pass under test.
  beforeEach(() => queue(QueueName.Maintenance).pause());
  afterEach(async () => {
    await sim.control('DELETE', '/_sim/faults');
    await queue(QueueName.Deploy).resume();
    await queue(QueueName.Maintenance).resume();
  });

  const sql = () => t.app.get(EntityManager).getConnection();
  const queue = (name: string) => t.app.get<Queue>(getQueueToken(name));
  const reconcile = () => t.app.get(Reconciler).reconcile();
  const ct = (vmid: number) => sim.token.nodes.$('pve1').lxc.$(vmid);

  const deploy = async (): Promise<AppBody> => {
    counter += 1;
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname: `orphans-${counter}` });
    expect(res.status).toBe(202);
    const app = await settled(t, user, (res.body as AppBody).id);
    expect(app.status).toBe('running');
    return app;
  };

  const read = async (id: string): Promise<AppBody> =>
    (await t.http().get(`/api/apps/${id}`).set(bearer(user))).body as AppBody;

  /** A deployment whose operation failed without its job running: its VMID and ports held. */
  const failedDeployment = async (): Promise<AppBody> => {
    await queue(QueueName.Deploy).pause();
    counter += 1;
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname: `orphans-${counter}` });
    const app = res.body as AppBody;
    const op = await operationOf(t, user, app.id);
    await (await queue(QueueName.Deploy).getJob(op.id))?.remove();
    await queue(QueueName.Deploy).resume();
    await sql().execute(
      `update operation set status = 'failed', finished_at = now() where id = ?`,
      [op.id],
    );
    expect(app.vmid).toEqual(expect.any(Number));
    expect(app.ports.length).toBeGreaterThan(0);
    return app;
  };

  /** A deployment that finally failed but crashed before giving its ports back. */
  const portsLeftBehind = async (): Promise<AppBody> => {
    const app = await failedDeployment();
    await sql().execute(
      `update application set status = 'error', vmid = null, last_error = 'failed' where id = ?`,
      [app.id],
    );
    return app;
  };

  /** A rule in Proximity's chain for a port nobody holds, as a crash could leave it. */
  const strayRule = async () => {
    const comment = `proximity:${randomUUID()}`;
    const res = await sim.exec(
      `nft add rule ip proximity prerouting tcp dport ${STRAY_PORT} dnat to 127.77.9.9:80 comment '"${comment}"'`,
    );
    expect(res.code).toBe(0);
  };

  /** The rule the failed deployment would have programmed for its allocated port. */
  const ruleOf = async (app: AppBody) => {
    const host = await t.app.get(EntityManager).fork().findOneOrFail(ProxmoxHost, { id: hostId });
    await t.app.get(ForwardingRules).apply(
      t.app.get(HostsService).shellTargetFor(host, 'pve1'),
      app.id,
      app.ports.map((p) => ({
        publicPort: p.publicPort,
        protocol: p.protocol as 'tcp',
        targetAddress: '127.77.9.9',
        targetPort: p.containerPort,
      })),
    );
  };

  /** A running container marked for an application that does not exist. */
  const orphanContainer = async () => {
    const id = randomUUID();
    const created = await sim.createContainer(ORPHAN_VMID, {
      tags: `proximity;${applicationTag(id)}`,
      description: applicationDescription(id),
      start: 1,
    });
    expect(created.exitstatus).toBe('OK');
  };

  const snapshot = async (vmid: number, name: string) => {
    expect((await sim.waitTask(await ct(vmid).snapshot.$post({ snapname: name }))).exitstatus).toBe(
      'OK',
    );
  };

  /** An action accepted on a running app whose job was lost, two hours ago. */
  const stuckStop = async (app: AppBody): Promise<string> => {
    const [op] = await sql().execute<{ id: string }[]>(
      `insert into operation (id, type, status, application_id, created_at, updated_at)
       values (gen_random_uuid(), 'stop', 'queued', ?, now() - interval '2 hours', now()) returning id`,
      [app.id],
    );
    await sql().execute(`update application set status = 'stopping' where id = ?`, [app.id]);
    return op.id;
  };

  const destroyBehindOurBack = async (vmid: number) => {
    await sim.waitTask(await ct(vmid).status.stop.$post());
    await sim.waitTask(await ct(vmid).$delete());
  };

  const rows = async () => ({
    allocations: await sql().execute(
      'select application_id, port, protocol, state from port_allocation order by port',
    ),
    applications: await sql().execute(
      'select id, status, vmid, last_error, version from application order by id',
    ),
    operations: await sql().execute('select id, status, error from operation order by id'),
  });

  const allocatedPorts = async (applicationId: string) =>
    (
      await sql().execute<{ port: number }[]>(
        'select port from port_allocation where application_id = ? order by port',
        [applicationId],
      )
    ).map((r) => r.port);

  it('removes every orphan in one pass and leaves live applications intact', async () => {
    const live = await deploy();
    const vanished = await deploy();
    const stuck = await deploy();
    const failed = await portsLeftBehind();
    await ruleOf(failed);
    await strayRule();
    await orphanContainer();
    expect(
      (await sim.createContainer(FOREIGN_VMID, { tags: 'web', description: 'not ours' }))
        .exitstatus,
    ).toBe('OK');
    // Our generic tag alone names no application: not enough to destroy a guest.
    expect(
      (await sim.createContainer(TAGGED_ONLY_VMID, { tags: 'proximity', description: 'mine' }))
        .exitstatus,
    ).toBe('OK');
    const finished = await operationOf(t, user, live.id);
    await snapshot(live.vmid!, temporarySnapshotName(finished.id));
    await snapshot(live.vmid!, 'before-upgrade');
    // An operation within its deadline (its job elsewhere) still needs its snapshot.
    const [running] = await sql().execute<{ id: string }[]>(
      `insert into operation (id, type, status, application_id, created_at, updated_at)
       values (gen_random_uuid(), 'backup', 'running', ?, now(), now()) returning id`,
      [live.id],
    );
    await snapshot(live.vmid!, temporarySnapshotName(running.id));
    const stuckOp = await stuckStop(stuck);
    await destroyBehindOurBack(vanished.vmid!);

    const summary = await reconcile();

    expect(summary).toEqual({
      ended: 1,
      allocationsRemoved: failed.ports.length,
      rulesRemoved: failed.ports.length + 1,
      containersDestroyed: 1,
      snapshotsDeleted: 1,
      guestsVanished: 1,
      hostsSkipped: [],
    });
    const state = await sim.state();
    const guest = (vmid: number) => state.containers.find((c) => c.vmid === vmid);
    expect(guest(ORPHAN_VMID)).toBeUndefined();
    expect(guest(FOREIGN_VMID)).toMatchObject({ status: 'stopped', tags: ['web'] });
    expect(guest(TAGGED_ONLY_VMID)).toMatchObject({ status: 'stopped', tags: ['proximity'] });
    expect(guest(live.vmid!)).toMatchObject({
      status: 'running',
      snapshots: ['before-upgrade', temporarySnapshotName(running.id)],
    });
    const forwarded = state.forwards.map((f) => f.publicPort).sort();
    expect(forwarded).toEqual(
      [...live.ports, ...vanished.ports, ...stuck.ports].map((p) => p.publicPort).sort(),
    );
    expect(await allocatedPorts(failed.id)).toEqual([]);
    for (const app of [live, vanished, stuck]) {
      expect(await allocatedPorts(app.id)).toEqual(app.ports.map((p) => p.publicPort));
    }
    expect((await fetch(live.url!)).status).toBe(200);
    expect((await fetch(stuck.url!)).status).toBe(200);
    expect(await read(live.id)).toMatchObject({ status: 'running', lastError: null });
    await sql().execute(`update operation set status = 'succeeded' where id = ?`, [running.id]);
    expect(await read(vanished.id)).toMatchObject({
      status: 'error',
      lastError: GUEST_VANISHED,
      vmid: vanished.vmid,
    });
    expect(await read(stuck.id)).toMatchObject({ status: 'running', operation: null });
    const op = await t.http().get(`/api/operations/${stuckOp}`).set(bearer(user));
    expect(op.body).toMatchObject({ type: 'stop', status: 'failed' });
    expect(
      t.logs.entries().filter((e) => e.msg === 'reconcile pass' && e.guestsVanished === 1),
    ).toHaveLength(1);

    // The next pass, asked for from the CLI, finds only the snapshot of the operation ended since.
    await queue(QueueName.Maintenance).resume();
    const run = spawnEntry('src/cli.ts', t.env, ['reconcile']);
    expect(await run.exited).toBe(0);
    expect(JSON.parse(run.stdout())).toEqual({ ...NOTHING, snapshotsDeleted: 1, hostsSkipped: [] });
    expect((await sim.state()).containers.find((c) => c.vmid === live.vmid)?.snapshots).toEqual([
      'before-upgrade',
    ]);
  });

  it('changes nothing on a host it cannot list whole, and reports it skipped', async () => {
    const [live] = (
      await sql().execute<{ id: string }[]>(
        `select id from application where status = 'running' order by created_at limit 1`,
      )
    ).map((r) => r.id);
    const app = await read(live);
    await strayRule();
    await orphanContainer();
    const failed = await portsLeftBehind();
    await destroyBehindOurBack(app.vmid!);
    const simBefore = await sim.state();
    const rowsBefore = await rows();
    const unreachable = [{ status: 596 }];
    // The API answers but the nodes' rules cannot be read: a partial read is no read.
    const noShell = [{ sshCommand: '.', status: 255, message: 'Connection refused' }];
    for (const rules of [unreachable, noShell]) {
      expect((await sim.control('POST', '/_sim/faults', { rules })).status).toBe(201);

      const summary = await reconcile();

      expect(summary).toEqual({
        ...NOTHING,
        hostsSkipped: [{ hostId, name: 'pve-orphans', reason: HOST_UNREADABLE }],
      });
      await sim.control('DELETE', '/_sim/faults');
      const simAfter = await sim.state();
      expect({ ...simAfter, tasks: null, calls: null }).toEqual({
        ...simBefore,
        tasks: null,
        calls: null,
      });
      expect(await rows()).toEqual(rowsBefore);
    }
    expect(await allocatedPorts(failed.id)).toEqual(failed.ports.map((p) => p.publicPort));

    // Reachable again. While another pass (another process) holds the lock, a pass waits for it.
    let pass: Promise<ReconcileSummary> | undefined;
    await withLock(Lock.Reconciler, t.app.get(EntityManager).fork(), async () => {
      pass = reconcile();
      await waitFor(async () => {
        const [{ n }] = await sql().execute<{ n: number }[]>(
          `select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`,
        );
        return n > 0;
      }, 30_000);
      expect((await sim.state()).containers.map((c) => c.vmid)).toContain(ORPHAN_VMID);
    });
    expect(await pass).toEqual({
      ...NOTHING,
      allocationsRemoved: failed.ports.length,
      rulesRemoved: 1,
      containersDestroyed: 1,
      guestsVanished: 1,
      hostsSkipped: [],
    });
    expect((await sim.state()).containers.map((c) => c.vmid)).not.toContain(ORPHAN_VMID);
    expect(await read(app.id)).toMatchObject({ status: 'error', lastError: GUEST_VANISHED });
  });

  it('keeps a temporary snapshot it cannot delete yet (container locked) for the next pass', async () => {
    const [row] = await sql().execute<{ id: string; vmid: number }[]>(
      `select id, vmid from application where status = 'running' order by created_at limit 1`,
    );
    const finished = await operationOf(t, user, row.id);
    const name = temporarySnapshotName(finished.id);
    await snapshot(row.vmid, name);
    const locked = await sim.control('POST', '/_sim/faults', {
      rules: [
        { method: 'DELETE', path: '/snapshot/', status: 500, message: 'CT is locked (backup)' },
      ],
    });
    expect(locked.status).toBe(201);
    expect(await reconcile()).toEqual({ ...NOTHING, hostsSkipped: [] });
    const snapshots = async () =>
      (await sim.state()).containers.find((c) => c.vmid === row.vmid)?.snapshots;
    expect(await snapshots()).toContain(name);

    await sim.control('DELETE', '/_sim/faults');
    expect(await reconcile()).toEqual({ ...NOTHING, snapshotsDeleted: 1, hostsSkipped: [] });
    expect(await snapshots()).not.toContain(name);
  });

  it('CLI: gives up, withdrawing its request, when no worker runs the pass', async () => {
    // Paused: no worker takes the job, as when none runs.
    const run = spawnEntry('src/cli.ts', t.env, ['reconcile', '--wait-seconds', '2']);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('no worker finished the reconcile pass within 2 s');
    const left = await queue(QueueName.Maintenance).getJobs(['waiting', 'paused']);
    expect(left.filter((job) => String(job.id).startsWith('cli-'))).toEqual([]);
    const bad = spawnEntry('src/cli.ts', t.env, ['reconcile', '--wait-seconds', 'soon']);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toContain('--wait-seconds must be a whole number');
  });

  /** A deployment that failed for good, whose cleanup failed too: it keeps its VMID and ports. */
  const cleanupFailed = async (): Promise<AppBody> => {
    const app = await failedDeployment();
    await sql().execute(`update application set status = 'error', last_error = ? where id = ?`, [
      CLEANUP_FAILED,
      app.id,
    ]);
    return app;
  };

  it('gives back the VMID and ports of a failed deployment whose cleanup failed once no guest holds the VMID', async () => {
    const gone = await cleanupFailed();
    const remaining = await cleanupFailed();
    // Its container is still there: the VMID and ports stay reserved for the owner to delete.
    const created = await sim.createContainer(remaining.vmid!, {
      tags: `proximity;${applicationTag(remaining.id)}`,
      description: applicationDescription(remaining.id),
    });
    expect(created.exitstatus).toBe('OK');

    expect(await reconcile()).toEqual({
      ...NOTHING,
      allocationsRemoved: 1 + gone.ports.length,
      hostsSkipped: [],
    });
    expect(await read(gone.id)).toMatchObject({ status: 'error', vmid: null });
    expect(await allocatedPorts(gone.id)).toEqual([]);
    expect(await read(remaining.id)).toMatchObject({ status: 'error', vmid: remaining.vmid });
    expect(await allocatedPorts(remaining.id)).toEqual(remaining.ports.map((p) => p.publicPort));
    expect((await sim.state()).containers.map((c) => c.vmid)).toContain(remaining.vmid);
    expect(await reconcile()).toEqual({ ...NOTHING, hostsSkipped: [] });
  });
});
