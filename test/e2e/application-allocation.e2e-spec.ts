import { EntityManager, OptimisticLockError } from '@mikro-orm/postgresql';
import { Application } from '../../src/applications/application.entity';
import { ApplicationStatus } from '../../src/applications/application-status';
import { ApplicationAllocator } from '../../src/applications/allocation/application-allocator';
import { DomainError, ErrorCode } from '../../src/common/errors/domain-error';
import { allocate, allocationRequest, createHost } from '../support/applications';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

interface Row {
  vmid: number | null;
  hostname: string;
}

/** How a rejected allocation was refused: its code and message. */
function refusal(result: PromiseSettledResult<unknown>): { code: ErrorCode; message: string } {
  if (result.status === 'fulfilled') throw new Error('the allocation succeeded');
  const err = result.reason as unknown;
  if (!(err instanceof DomainError)) throw err;
  return { code: err.code, message: err.message };
}

describe('application allocation (real PostgreSQL)', () => {
  let t: TestApp;
  let em: EntityManager;
  let admin: Session;
  let user: Session;
  let hostId: string;

  const sql = <T extends object>(query: string, params: unknown[] = []): Promise<T[]> =>
    em.fork().execute<T[]>(query, params);

  beforeAll(async () => {
    t = await startFreshApp();
    em = t.app.get(EntityManager);
    admin = await loginAdmin(t);
    user = await createUser(t, admin);
    hostId = await createHost(t, admin, 'alloc', { vmidMin: 20000, vmidMax: 20999 });
    const settings = await t.http().get('/api/settings').set(bearer(admin));
    const body = settings.body as { limits: Record<string, number> };
    const put = await t
      .http()
      .put('/api/settings')
      .set(bearer(admin))
      .send({ ...settings.body, limits: { ...body.limits, maxAppsPerUser: 500 } });
    expect(put.status).toBe(200);
  });
  afterAll(() => t?.close());

  it('50 parallel allocations of one hostname: exactly one succeeds, 49 are 409 on the hostname', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => allocate(t, allocationRequest(admin, hostId, 'wiki'))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refusals = results.filter((r) => r.status === 'rejected').map(refusal);
    expect(refusals).toHaveLength(49);
    for (const r of refusals) {
      expect(r).toEqual({ code: ErrorCode.Conflict, message: "hostname 'wiki' is taken" });
    }
    const rows = await sql<Row>(`select vmid, hostname from application where hostname = 'wiki'`);
    expect(rows).toHaveLength(1);
    const ports = await sql(
      `select p.* from port_allocation p join application a on a.id = p.application_id where a.hostname = 'wiki'`,
    );
    expect(ports).toHaveLength(2);
  });

  it('a hostname differing only in case is the same hostname', async () => {
    const [result] = await Promise.allSettled([
      allocate(t, allocationRequest(user, hostId, 'WIKI')),
    ]);
    expect(refusal(result)).toEqual({
      code: ErrorCode.Conflict,
      message: "hostname 'WIKI' is taken",
    });
  });

  it('100 parallel allocations of distinct hostnames: 100 distinct VMIDs, no port twice, none a cluster guest', async () => {
    const clusterVmids = [20001, 20003, 20050];
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        allocate(t, allocationRequest(i % 2 ? admin : user, hostId, `app-${i}`, { clusterVmids })),
      ),
    );
    const vmids = results.map((r) => r.application.vmid);
    expect(new Set(vmids).size).toBe(100);
    for (const id of clusterVmids) expect(vmids).not.toContain(id);
    const rows = await sql<{ port: number; protocol: string; n: string }>(
      `select port, protocol, count(*) as n from port_allocation where host_id = ? group by port, protocol having count(*) > 1`,
      [hostId],
    );
    expect(rows).toEqual([]);
    const [{ n }] = await sql<{ n: string }>(
      `select count(*) as n from port_allocation where host_id = ?`,
      [hostId],
    );
    expect(Number(n)).toBe(202);
    // The lowest ids of the range, skipping the cluster's: nothing was left unused.
    const all = (await sql<Row>(`select vmid from application where host_id = ?`, [hostId]))
      .map((r) => r.vmid!)
      .sort((a, b) => a - b);
    expect(all[all.length - 1]).toBe(20000 + 101 + clusterVmids.length - 1);
  });

  it('writes the application, its port allocations and its queued deploy operation together', async () => {
    const { application, operation } = await allocate(
      t,
      allocationRequest(user, hostId, 'together'),
    );
    const [op] = await sql<{ type: string; status: string; application_id: string }>(
      'select type, status, application_id from operation where id = ?',
      [operation.id],
    );
    expect(op).toEqual({ type: 'deploy', status: 'queued', application_id: application.id });
    const [app] = await sql<Record<string, unknown>>(
      'select status, owner_id, root_password, secret_environment, environment from application where id = ?',
      [application.id],
    );
    expect(app.status).toBe('deploying');
    expect(app.owner_id).toBe(user.userId);
    // Secrets are stored sealed, never in the clear.
    expect(app.root_password).toMatch(/^pxe1\./);
    expect(app.secret_environment).toMatch(/^pxe1\./);
    expect(JSON.stringify(app)).not.toContain('secret-of-together');
    expect(JSON.stringify(app)).not.toContain('root-password-of-together');
    expect(app.environment).toEqual({ GREETING: 'hello' });
  });

  it('release frees the VMID and the ports: the next allocation gets them again', async () => {
    const other = await createHost(t, admin, 'release', {
      vmidMin: 30000,
      vmidMax: 30099,
      portMin: 40000,
      portMax: 40099,
    });
    const first = await allocate(t, allocationRequest(user, other, 'first'));
    expect(first.application.vmid).toBe(30000);
    const firstPorts = await sql<{ port: number; protocol: string }>(
      'select port, protocol from port_allocation where application_id = ? order by protocol',
      [first.application.id],
    );
    expect(firstPorts).toEqual([
      { port: 40000, protocol: 'tcp' },
      { port: 40000, protocol: 'udp' },
    ]);
    await t.app.get(ApplicationAllocator).release(first.application.id);
    const [row] = await sql<Row>('select vmid, hostname from application where id = ?', [
      first.application.id,
    ]);
    expect(row).toEqual({ vmid: null, hostname: 'first' });
    const second = await allocate(t, allocationRequest(user, other, 'second'));
    expect(second.application.vmid).toBe(30000);
    expect(
      await sql(
        'select port, protocol from port_allocation where application_id = ? order by protocol',
        [second.application.id],
      ),
    ).toEqual(firstPorts);
  });

  it('discard removes the application, its ports and its operation', async () => {
    const { application, operation } = await allocate(t, allocationRequest(user, hostId, 'gone'));
    await t.app.get(ApplicationAllocator).discard(application.id);
    for (const [table, column, id] of [
      ['application', 'id', application.id],
      ['port_allocation', 'application_id', application.id],
      ['operation', 'id', operation.id],
    ]) {
      expect({
        table,
        rows: await sql(`select 1 from ${table} where ${column} = ?`, [id]),
      }).toEqual({ table, rows: [] });
    }
  });

  it('refuses past maxAppsPerUser with a 409, and counts per owner under concurrency', async () => {
    const limited = await createUser(t, admin);
    const settings = await t.http().get('/api/settings').set(bearer(admin));
    const body = settings.body as { limits: Record<string, number> };
    await t
      .http()
      .put('/api/settings')
      .set(bearer(admin))
      .send({ ...settings.body, limits: { ...body.limits, maxAppsPerUser: 3 } });
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          allocate(t, allocationRequest(limited, hostId, `quota-${i}`)),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      for (const r of results.filter((r) => r.status === 'rejected')) {
        expect(refusal(r)).toEqual({
          code: ErrorCode.Conflict,
          message: 'the limit of 3 applications per user is reached',
        });
      }
    } finally {
      await t
        .http()
        .put('/api/settings')
        .set(bearer(admin))
        .send({ ...settings.body, limits: { ...body.limits, maxAppsPerUser: 500 } });
    }
  });

  it('a host that does not exist is a 400 on hostId', async () => {
    const [result] = await Promise.allSettled([
      allocate(t, allocationRequest(user, '00000000-0000-4000-8000-000000000000', 'nohost')),
    ]);
    expect(refusal(result).code).toBe(ErrorCode.InvalidInput);
  });

  it('a full VMID range or port pool is a 503 and leaves nothing behind', async () => {
    const tiny = await createHost(t, admin, 'tiny', {
      vmidMin: 31000,
      vmidMax: 31001,
      portMin: 41000,
      portMax: 41002,
    });
    await allocate(t, allocationRequest(user, tiny, 'tiny-1'));
    const [vmidFull] = await Promise.allSettled([
      allocate(t, allocationRequest(user, tiny, 'tiny-2', { clusterVmids: [31001] })),
    ]);
    expect(refusal(vmidFull)).toEqual({
      code: ErrorCode.Unavailable,
      message: 'no free VMID is left on this host',
    });
    const threeTcp = Array.from({ length: 3 }, (_, i) => ({
      name: `p${i}`,
      containerPort: 80 + i,
      protocol: 'tcp' as const,
    }));
    const [portsFull] = await Promise.allSettled([
      allocate(t, allocationRequest(user, tiny, 'tiny-3', { ports: threeTcp })),
    ]);
    expect(refusal(portsFull)).toEqual({
      code: ErrorCode.Unavailable,
      message: 'no free public port is left on this host',
    });
    expect(await sql(`select hostname from application where host_id = ?`, [tiny])).toEqual([
      { hostname: 'tiny-1' },
    ]);
  });

  it('a change made from a stale copy of an application fails (optimistic version)', async () => {
    const { application } = await allocate(t, allocationRequest(user, hostId, 'versioned'));
    const one = em.fork();
    const first = await one.findOneOrFail(Application, { id: application.id });
    const second = em.fork();
    const stale = await second.findOneOrFail(Application, { id: application.id });
    first.status = ApplicationStatus.Running;
    await one.flush();
    stale.status = ApplicationStatus.Error;
    await expect(second.flush()).rejects.toBeInstanceOf(OptimisticLockError);
    const [row] = await sql<{ status: string; version: number }>(
      'select status, version from application where id = ?',
      [application.id],
    );
    expect(row).toEqual({ status: 'running', version: 2 });
  });
});
