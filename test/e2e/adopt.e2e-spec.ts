import { EntityManager } from '@mikro-orm/postgresql';
import { AdoptionAllocator } from '../../src/applications/adopt/adoption-allocator';
import { OperationType } from '../../src/operations/operation.entity';
import { OverdueOperations } from '../../src/operations/overdue-operations';
import type { FaultRuleInput } from '../pve-simulator/faults/fault-rules';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, operationOf, reaches, settled } from '../support/deployments';
import { expectError } from '../support/expectations';
import { registerDeployHost } from '../support/hosts';
import { startApp, startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const UPSTREAM_TEXT = 'upstream-text-that-must-stay-in-the-server-log';

/** Deployed apps take VMIDs from 650000; the containers Proximity did not create live above. */
const FOREIGN_VMID = 651_000;
const SERVICE_PORT = 8080;

interface Discovered {
  vmid: number;
  node: string;
  hostname: string | null;
  status: string;
  cores: number | null;
  memoryMb: number | null;
  diskGb: number | null;
}

interface AdoptedBody extends AppBody {
  adopted: boolean;
  catalogId: string | null;
  ownerId: string;
  resources: { cores: number; memoryMb: number; diskGb: number };
  operation: AppBody['operation'] & { type: string };
}

/**
 * Discovering and adopting containers Proximity did not create: admins
 * only; an adopted container is captured as it is, its exposed ports are
 * forwarded, and deleting it unmanages it unless `destroy=true`.
 */
describe('discover and adopt', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let owner: Session;
  let other: Session;
  let hostId: string;
  let deployed: AppBody;
  let vmid = FOREIGN_VMID;

  beforeAll(async () => {
    t = await startFreshApp({ PROXMOX_CALL_TIMEOUT_MS: '2000' });
    // Short statistics ticks: discovery reads the lagging cluster view.
    sim = await SimulatorFixture.start({
      latency: { taskMs: 10, dhcpLeaseMs: 100, statsIntervalMs: 50 },
    });
    admin = await loginAdmin(t);
    owner = await createUser(t, admin);
    other = await createUser(t, admin);
    hostId = await registerDeployHost(t, admin, sim.sim, 'pve-adopt', 650_000, [32_150, 32_199]);
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(owner))
      .send({ catalogId: 'whoami', hostname: 'deployed-one' });
    expect(res.status).toBe(202);
    deployed = await settled(t, owner, (res.body as AppBody).id);
    expect(deployed.status).toBe('running');
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });
  afterEach(async () => {
    await sim.control('DELETE', '/_sim/faults');
  });

  const sql = () => t.app.get(EntityManager).getConnection();

  const inject = async (rules: FaultRuleInput[]) => {
    expect((await sim.control('POST', '/_sim/faults', { rules })).status).toBe(201);
  };

  const exec = async (command: string, stdin?: string) => {
    const result = await sim.exec(command, stdin);
    expect({ command, ...result }).toMatchObject({ command, code: 0 });
  };

  /**
   * A container created behind Proximity's back (through the Proxmox API),
   * with, on request, a web service on SERVICE_PORT.
   */
  const foreign = async (
    hostname: string,
    { running = true, service = false, node = 'pve1' } = {},
  ): Promise<number> => {
    vmid += 1;
    const created = await sim.createContainer(
      vmid,
      {
        hostname,
        cores: 2,
        memory: 1024,
        swap: 256,
        rootfs: 'local-lvm:6',
        features: 'nesting=1',
        tags: 'legacy',
        start: running || service ? 1 : 0,
      },
      node,
    );
    expect(created.exitstatus).toBe('OK');
    if (service) {
      await exec(
        `pct exec ${vmid} -- sh -c 'apt-get update -qq && apt-get install -y -qq docker.io docker-compose'`,
      );
      await exec(`pct exec ${vmid} -- mkdir -p /srv/web`);
      await exec(
        `pct exec ${vmid} -- tee /srv/web/compose.yaml`,
        `services:\n  web:\n    image: nginx\n    ports:\n      - "${SERVICE_PORT}:80"\n`,
      );
      await exec(`pct exec ${vmid} -- docker-compose -f /srv/web/compose.yaml -p web up -d`);
    }
    return vmid;
  };

  const container = async (id: number) =>
    (await sim.state()).containers.find((c) => c.vmid === id) ?? null;

  const discover = async (session: Session | null, query = '') => {
    const req = t.http().get(`/api/apps/discover${query}`);
    return session ? req.set(bearer(session)) : req;
  };

  /** Waits for the lagging cluster view to list every container with its name (and `until`). */
  const discovered = async (
    until: (items: Discovered[]) => boolean = () => true,
  ): Promise<Discovered[]> => {
    for (;;) {
      const res = await discover(admin, '?perPage=100');
      expect(res.status).toBe(200);
      const items = (res.body as { items: Discovered[] }).items;
      if (items.every((c) => c.hostname !== null) && until(items)) return items;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const adopt = (session: Session | null, body: Record<string, unknown>) => {
    const req = t.http().post('/api/apps/adopt').send(body);
    return session ? req.set(bearer(session)) : req;
  };

  const adoptBody = (id: number, extra: Record<string, unknown> = {}) => ({
    hostId,
    node: 'pve1',
    vmid: id,
    ownerId: owner.userId,
    ...extra,
  });

  const rowsOf = async (applicationId: string) => ({
    application: await sql().execute('select id from application where id = ?', [applicationId]),
    ports: await sql().execute('select port from port_allocation where application_id = ?', [
      applicationId,
    ]),
  });

  const forwardsOf = async (applicationId: string) =>
    (await sim.state()).forwards.filter((f) => f.comment?.includes(applicationId));

  describe('discover', () => {
    it('is for admins only (anonymous 401, user 403)', async () => {
      expectError(await discover(null), 401);
      expectError(await discover(owner), 403);
    });

    it('answers 400 with details for an unknown host and for bad paging', async () => {
      expectError(await discover(admin, '?hostId=00000000-0000-4000-8000-000000000000'), 400, [
        'hostId',
      ]);
      expectError(await discover(admin, '?hostId=nope'), 400, ['hostId']);
      expectError(await discover(admin, '?perPage=0'), 400, ['perPage']);
    });

    it('lists the containers no application manages, sorted by VMID, with their resources', async () => {
      const second = await foreign('legacy-two', { running: false, node: 'pve2' });
      const one = await foreign('legacy-one');
      const items = await discovered((list) =>
        list.some((c) => c.vmid === one && c.status === 'running'),
      );
      const vmids = items.map((c) => c.vmid);
      expect(vmids).not.toContain(deployed.vmid);
      expect(vmids).toEqual([...vmids].sort((a, b) => a - b));
      expect(items.find((c) => c.vmid === one)).toEqual({
        vmid: one,
        node: 'pve1',
        hostname: 'legacy-one',
        status: 'running',
        cores: 2,
        memoryMb: 1024,
        diskGb: 6,
      });
      expect(items.find((c) => c.vmid === second)).toMatchObject({
        node: 'pve2',
        hostname: 'legacy-two',
        status: 'stopped',
      });
      const page = await discover(admin, `?hostId=${hostId}&page=2&perPage=1`);
      expect(page.body).toMatchObject({ total: items.length, page: 2, perPage: 1 });
      expect((page.body as { items: Discovered[] }).items).toEqual([items[1]]);
    });

    it('answers 502 in our words when the host cannot be read', async () => {
      await inject([{ path: '/cluster/resources', status: 596, message: UPSTREAM_TEXT }]);
      const body = expectError(await discover(admin), 502);
      expect(JSON.stringify(body)).not.toContain(UPSTREAM_TEXT);
    });
  });

  describe('adopt', () => {
    let adopted: AdoptedBody;
    let adoptedVmid: number;

    it('is for admins only (anonymous 401, user 403)', async () => {
      const id = await foreign('not-for-users');
      expectError(await adopt(null, adoptBody(id)), 401);
      expectError(await adopt(owner, adoptBody(id)), 403);
    });

    it('answers 400 with details for bad input', async () => {
      const id = await foreign('bad-input');
      expectError(await adopt(admin, adoptBody(id, { node: 'pve2' })), 400, ['vmid']);
      expectError(await adopt(admin, adoptBody(id, { node: 'pve9' })), 400, ['node']);
      expectError(await adopt(admin, adoptBody(id + 1000)), 400, ['vmid']);
      expectError(
        await adopt(admin, adoptBody(id, { ownerId: '00000000-0000-4000-8000-000000000000' })),
        400,
        ['ownerId'],
      );
      expectError(
        await adopt(admin, adoptBody(id, { hostId: '00000000-0000-4000-8000-000000000000' })),
        400,
        ['hostId'],
      );
      const disabled = await createUser(t, admin);
      const patched = await t
        .http()
        .patch(`/api/users/${disabled.userId}`)
        .set(bearer(admin))
        .send({ disabled: true });
      expect(patched.status).toBe(200);
      expectError(await adopt(admin, adoptBody(id, { ownerId: disabled.userId })), 400, [
        'ownerId',
      ]);
      for (const exposePorts of [
        [0],
        [65536],
        [80, 80],
        ['80'],
        Array.from({ length: 21 }, (_, i) => i + 1),
      ]) {
        expectError(await adopt(admin, adoptBody(id, { exposePorts })), 400, ['exposePorts']);
      }
      const count = await sql().execute('select count(*)::int as n from application where adopted');
      expect(count).toEqual([{ n: 0 }]);
    });

    it('answers 400 for a container whose hostname is not one RFC 1123 label', async () => {
      const id = await foreign('web.example.com');
      const body = expectError(await adopt(admin, adoptBody(id)), 400, ['vmid']);
      expect(body.details?.[0].message).toMatch(/hostname is not one RFC 1123 label/);
    });

    it('answers 502 in our words, with nothing reserved, when the container cannot be read', async () => {
      const id = await foreign('unreadable');
      await inject([{ path: `/lxc/${id}/config`, status: 596, message: UPSTREAM_TEXT }]);
      const body = expectError(await adopt(admin, adoptBody(id)), 502);
      expect(JSON.stringify(body)).not.toContain(UPSTREAM_TEXT);
      expect(await sql().execute('select id from application where vmid = ?', [id])).toEqual([]);
    });

    it('answers 503 with nothing reserved and no success audited when the queue is unreachable', async () => {
      const id = await foreign('legacy-no-queue');
      const before = await container(id);
      const held = () =>
        sql().execute('select count(*)::int as n from port_allocation where host_id = ?', [hostId]);
      const audited = () =>
        sql().execute(
          "select count(*)::int as n from audit_entry where action = 'application.adopt' and outcome = 'success'",
        );
      const [heldBefore, auditedBefore] = [await held(), await audited()];
      const cut = await startApp({ ...t.env, REDIS_URL: 'redis://127.0.0.1:1' });
      try {
        const res = await cut
          .http()
          .post('/api/apps/adopt')
          .set(bearer(admin))
          .send(adoptBody(id, { exposePorts: [SERVICE_PORT] }));
        expectError(res, 503);
      } finally {
        await cut.close();
      }
      expect(await sql().execute('select id from application where vmid = ?', [id])).toEqual([]);
      expect(await held()).toEqual(heldBefore);
      expect(await audited()).toEqual(auditedBefore);
      expect(await container(id)).toEqual(before);
      // Still free to be adopted.
      expect((await discovered()).map((c) => c.vmid)).toContain(id);
    });

    it('adopts a running container: adopting at once, then running with its ports forwarded', async () => {
      adoptedVmid = await foreign('legacy-web', { service: true });
      const before = await container(adoptedVmid);
      const res = await adopt(admin, adoptBody(adoptedVmid, { exposePorts: [SERVICE_PORT] }));
      expect(res.status).toBe(202);
      const accepted = res.body as AdoptedBody;
      expect(accepted).toMatchObject({
        status: 'adopting',
        adopted: true,
        catalogId: null,
        ownerId: owner.userId,
        hostname: 'legacy-web',
        name: 'legacy-web',
        vmid: adoptedVmid,
        node: 'pve1',
        operation: { type: 'adopt' },
      });
      adopted = (await reaches(t, owner, accepted.id, [
        'running',
        'stopped',
        'error',
      ])) as AdoptedBody;
      expect(adopted).toMatchObject({
        status: 'running',
        lastError: null,
        resources: { cores: 2, memoryMb: 1024, diskGb: 6 },
      });
      expect(adopted.ports).toEqual([
        {
          name: `tcp-${SERVICE_PORT}`,
          containerPort: SERVICE_PORT,
          publicPort: expect.any(Number),
          protocol: 'tcp',
        },
      ]);
      expect(adopted.url).toBe(`http://127.0.0.1:${adopted.ports[0].publicPort}`);
      const answer = await fetch(adopted.url!);
      expect(answer.status).toBe(200);
      // Nothing about the container changed: same state, same tags.
      expect(await container(adoptedVmid)).toEqual(before);
      expect((await operationOf(t, admin, adopted.id)).status).toBe('succeeded');
      const audit = await sql().execute(
        "select actor_id from audit_entry where action = 'application.adopt' and resource_id = ?",
        [adopted.id],
      );
      expect(audit).toEqual([{ actor_id: admin.userId }]);
    });

    it('shows the adopted application to its owner and admins, and 404 to anyone else', async () => {
      const list = await t.http().get('/api/apps').set(bearer(owner));
      expect((list.body as { items: AppBody[] }).items.map((a) => a.id)).toContain(adopted.id);
      expect((await t.http().get(`/api/apps/${adopted.id}`).set(bearer(owner))).status).toBe(200);
      expect((await t.http().get(`/api/apps/${adopted.id}`).set(bearer(admin))).status).toBe(200);
      expectError(await t.http().get(`/api/apps/${adopted.id}`).set(bearer(other)), 404);
      const theirs = await t.http().get('/api/apps').set(bearer(other));
      expect((theirs.body as { items: AppBody[] }).items).toEqual([]);
      expect((await discovered()).map((c) => c.vmid)).not.toContain(adoptedVmid);
    });

    it('refuses to clone an adopted application: Proximity knows neither its password nor its stack', async () => {
      const res = await t
        .http()
        .post(`/api/apps/${adopted.id}/clone`)
        .set(bearer(owner))
        .send({ hostname: 'adopted-copy' });
      expect(expectError(res, 409).message).toBe(
        `application '${adopted.hostname}' cannot be cloned`,
      );
      expect((await sim.state()).containers.filter((c) => c.hostname === 'adopted-copy')).toEqual(
        [],
      );
    });

    it('refuses to back up an adopted application', async () => {
      const res = await t
        .http()
        .post(`/api/apps/${adopted.id}/backups`)
        .set(bearer(owner))
        .send({});
      expect(expectError(res, 409).message).toBe(
        `application '${adopted.hostname}' was adopted; Proximity does not back up adopted containers`,
      );
    });

    it('answers 409 for a VMID an application manages, adopted or deployed', async () => {
      const again = expectError(await adopt(admin, adoptBody(adoptedVmid)), 409);
      expect(again.message).toBe(`VMID ${adoptedVmid} is already managed by an application`);
      const theirs = expectError(await adopt(admin, adoptBody(deployed.vmid!)), 409);
      expect(theirs.message).toBe(`VMID ${deployed.vmid} is already managed by an application`);
    });

    it('answers 409 for a container whose hostname a live application has', async () => {
      const id = await foreign('deployed-one');
      const body = expectError(await adopt(admin, adoptBody(id)), 409);
      expect(body.message).toBe("hostname 'deployed-one' is taken");
    });

    it('accepts exactly one of concurrent adopts of one container; a stopped one ends stopped', async () => {
      const id = await foreign('legacy-stopped', { running: false });
      const answers = await Promise.all(
        Array.from({ length: 4 }, () =>
          adopt(admin, adoptBody(id, { exposePorts: [SERVICE_PORT] })),
        ),
      );
      expect(answers.map((r) => r.status).sort()).toEqual([202, 409, 409, 409]);
      const accepted = answers.find((r) => r.status === 202)!.body as AppBody;
      const done = await reaches(t, admin, accepted.id, ['running', 'stopped', 'error']);
      expect(done).toMatchObject({ status: 'stopped', ipAddress: null });
      expect((await container(id))?.status).toBe('stopped');
      // Forwarded with its next start.
      expect(await forwardsOf(accepted.id)).toEqual([]);
    });

    it('stops and starts an adopted application, checking only its exposed ports', async () => {
      const act = (action: string) =>
        t.http().post(`/api/apps/${adopted.id}/actions`).set(bearer(owner)).send({ action });
      expect((await act('stop')).status).toBe(202);
      await reaches(t, owner, adopted.id, ['stopped']);
      expect((await container(adoptedVmid))?.status).toBe('stopped');
      expect((await act('start')).status).toBe(202);
      const running = await reaches(t, owner, adopted.id, ['running', 'error']);
      expect(running).toMatchObject({ status: 'running', lastError: null });
      expect((await fetch(running!.url!)).status).toBe(200);
    });

    it('retries a forwarding failure that happens once into a running application', async () => {
      const id = await foreign('legacy-retried', { service: true });
      await inject([{ sshCommand: 'add.{1,12}rule', dropConnection: true, times: 1 }]);
      const res = await adopt(admin, adoptBody(id, { exposePorts: [SERVICE_PORT] }));
      expect(res.status).toBe(202);
      const app = res.body as AppBody;
      const done = await reaches(t, admin, app.id, ['running', 'stopped', 'error']);
      expect(done).toMatchObject({ status: 'running', lastError: null });
      expect(await operationOf(t, admin, app.id)).toMatchObject({
        status: 'succeeded',
        attempts: 2,
      });
      expect((await fetch(done!.url!)).status).toBe(200);
      expect(await forwardsOf(app.id)).toHaveLength(1);
    });

    it('ends in error with nothing reserved and the container untouched when forwarding fails', async () => {
      const id = await foreign('legacy-unforwarded', { service: true });
      const before = await container(id);
      await inject([{ sshCommand: 'add.{1,12}rule', status: 1, message: UPSTREAM_TEXT }]);
      const res = await adopt(admin, adoptBody(id, { exposePorts: [SERVICE_PORT] }));
      expect(res.status).toBe(202);
      const app = res.body as AppBody;
      const failed = await reaches(t, admin, app.id, ['running', 'stopped', 'error']);
      expect(failed?.status).toBe('error');
      expect(failed?.lastError).toEqual(expect.any(String));
      expect(JSON.stringify(failed)).not.toContain(UPSTREAM_TEXT);
      const op = await operationOf(t, admin, app.id);
      expect(op).toMatchObject({
        status: 'failed',
        step: 'forward_ports',
        attempts: op.maxAttempts,
      });
      expect(await container(id)).toEqual(before);
      expect(await forwardsOf(app.id)).toEqual([]);
      expect((await rowsOf(app.id)).ports).toEqual([]);
      expect(await sql().execute('select vmid from application where id = ?', [app.id])).toEqual([
        { vmid: null },
      ]);
      // Free to be adopted again.
      await sim.control('DELETE', '/_sim/faults');
      expect((await discovered()).map((c) => c.vmid)).toContain(id);
    });
  });

  it('ends an adoption whose job was lost through its overdue handler, leaving the container be', async () => {
    const id = await foreign('legacy-lost');
    const before = await container(id);
    // Reserved as the request does, but no job ever runs it.
    const { application, operation } = await t.app.get(AdoptionAllocator).allocate({
      ownerId: owner.userId,
      actorId: admin.userId,
      hostId,
      node: 'pve1',
      vmid: id,
      name: 'lost',
      captured: { hostname: 'legacy-lost', cores: 1, memoryMb: 512, swapMb: 0, diskGb: 1 },
      exposePorts: [SERVICE_PORT],
    });
    const handler = t.app.get(OverdueOperations).handlerOf(OperationType.Adopt)!;
    expect(handler.deadlineMs(OperationType.Adopt)).toBe(t.config.jobs.actionDeadlineMs);
    await handler.end(operation);
    const ended = (await t.http().get(`/api/apps/${application.id}`).set(bearer(owner)))
      .body as AppBody;
    expect(ended).toMatchObject({
      status: 'error',
      vmid: null,
      ports: [],
      lastError: 'the adoption was interrupted and did not finish in time',
    });
    expect((await operationOf(t, owner, application.id)).status).toBe('failed');
    expect(await container(id)).toEqual(before);
  });

  describe('delete', () => {
    it('refuses a destroy that is not a boolean', async () => {
      const [app] = (await t.http().get('/api/apps?search=legacy-web').set(bearer(admin))).body
        .items as AppBody[];
      expectError(
        await t.http().delete(`/api/apps/${app.id}?destroy=maybe`).set(bearer(admin)),
        400,
        ['destroy'],
      );
    });

    it('unmanages an adopted application: rules, ports and row gone, the container kept as it is', async () => {
      const [app] = (await t.http().get('/api/apps?search=legacy-web').set(bearer(admin))).body
        .items as AppBody[];
      const before = await container(app.vmid!);
      expect(before?.status).toBe('running');
      expect(await forwardsOf(app.id)).toHaveLength(1);
      const res = await t.http().delete(`/api/apps/${app.id}`).set(bearer(owner));
      expect(res.status).toBe(202);
      await reaches(t, owner, app.id, ['gone']);
      expectError(await t.http().get(`/api/apps/${app.id}`).set(bearer(owner)), 404);
      expect(await container(app.vmid!)).toEqual(before);
      expect(await forwardsOf(app.id)).toEqual([]);
      expect(await rowsOf(app.id)).toEqual({ application: [], ports: [] });
      expect((await discovered()).map((c) => c.vmid)).toContain(app.vmid);
    });

    it('destroys an adopted container with destroy=true', async () => {
      const id = await foreign('legacy-doomed');
      const res = await adopt(admin, adoptBody(id, { exposePorts: [SERVICE_PORT] }));
      expect(res.status).toBe(202);
      const app = res.body as AppBody;
      expect((await reaches(t, admin, app.id, ['running', 'error']))?.status).toBe('running');
      const del = await t.http().delete(`/api/apps/${app.id}?destroy=true`).set(bearer(admin));
      expect(del.status).toBe(202);
      await reaches(t, admin, app.id, ['gone']);
      expect(await container(id)).toBeNull();
      expect(await forwardsOf(app.id)).toEqual([]);
      expect(await rowsOf(app.id)).toEqual({ application: [], ports: [] });
    });
  });
});
