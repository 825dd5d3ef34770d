import { EntityManager } from '@mikro-orm/postgresql';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, operationOf, settled } from '../support/deployments';
import { expectError } from '../support/expectations';
import { registerDeployHost } from '../support/hosts';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

/**
 * A deployment end to end against the simulator with Proxmox's own timings
 * (DHCP lease, task latency, stats interval): the request, the job, and an
 * URL that answers through the node's forwarding.
 */
describe('deploying an application (default simulator timings)', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let user: Session;
  let hostId: string;

  beforeAll(async () => {
    t = await startFreshApp();
    // The simulator's defaults: the fixture's shortened task latency is replaced by Proxmox's.
    sim = await SimulatorFixture.start({ latency: {} });
    admin = await loginAdmin(t);
    user = await createUser(t, admin);
    hostId = await registerDeployHost(t, admin, sim.sim, 'pve-deploy', 200_000, [31_000, 31_099]);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  const sql = () => t.app.get(EntityManager).getConnection();

  it('answers 202 deploying, then runs with a URL that answers HTTP', async () => {
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname: 'hello-world', environment: { NAME: 'greeter' } });
    expect(res.status).toBe(202);
    const accepted = res.body as AppBody;
    expect(accepted).toMatchObject({
      status: 'deploying',
      hostname: 'hello-world',
      operation: { status: 'queued', attempts: 0, maxAttempts: 3 },
    });
    expect(accepted.vmid).toBeGreaterThanOrEqual(200_000);
    expect(accepted.ports).toHaveLength(1);

    const done = await settled(t, user, accepted.id);
    expect(done).toMatchObject({ status: 'running', lastError: null, operation: null });
    expect(done.url).toBe(`http://127.0.0.1:${accepted.ports[0].publicPort}`);
    expect(done.ipAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const page = await fetch(done.url!);
    expect(page.status).toBe(200);
    // The simulator's responder names the compose service that answers.
    expect(await page.text()).toContain('whoami');

    const op = await operationOf(t, user, accepted.id);
    expect(op).toMatchObject({ status: 'succeeded', attempts: 1, step: 'forward_ports' });
    const state = await sim.state();
    expect(state.containers.filter((c) => c.vmid === accepted.vmid)).toHaveLength(1);
    expect(state.forwards.map((f) => f.publicPort)).toContain(accepted.ports[0].publicPort);
    const ports = await sql().execute<{ state: string }[]>(
      'select state from port_allocation where application_id = ?',
      [accepted.id],
    );
    expect(ports.map((p) => p.state)).toEqual(['forwarded']);

    const logs = await t.http().get(`/api/apps/${accepted.id}/logs`).set(bearer(user));
    const steps = (logs.body as { items: { step: string | null; message: string }[] }).items
      .filter((l) => l.step !== null)
      .map((l) => l.message)
      .reverse();
    expect(steps).toEqual([
      'create_container done',
      'start_container done',
      'wait_for_address done',
      'install_docker done',
      'write_files done',
      'compose_up done',
      'verify done',
      'forward_ports done',
    ]);
  });

  it('keeps the generated secrets and the root password out of logs and answers', async () => {
    const res = await t
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'ghost', hostname: 'secret-blog', environment: { URL: 'http://b.test' } });
    expect(res.status).toBe(202);
    const id = (res.body as AppBody).id;
    const done = await settled(t, user, id);
    expect(done.status).toBe('running');
    const creds = await t.http().get(`/api/apps/${id}/credentials`).set(bearer(user));
    const rootPassword = (creds.body as { rootPassword: string }).rootPassword;
    expect(rootPassword).toMatch(/^[A-Za-z0-9]{24}$/);
    // The generated database passwords, as the row keeps them sealed.
    const [row] = await sql().execute<{ secret_environment: string }[]>(
      'select secret_environment from application where id = ?',
      [id],
    );
    const generated = JSON.parse(t.config.keyring.decrypt(row.secret_environment)) as Record<
      string,
      string
    >;
    const secrets = [rootPassword, ...Object.values(generated)];
    expect(secrets.length).toBeGreaterThanOrEqual(3);
    const logs = await t.http().get(`/api/apps/${id}/logs?limit=500`).set(bearer(user));
    const answers = JSON.stringify([res.body, done, logs.body]);
    const rows = JSON.stringify(
      await sql().execute('select message from deployment_log where application_id = ?', [id]),
    );
    for (const secret of secrets) {
      expect(t.logs.text).not.toContain(secret);
      expect(answers).not.toContain(secret);
      expect(rows).not.toContain(secret);
    }
    expect((done as unknown as { environment: Record<string, string> }).environment).toMatchObject({
      DB_PASSWORD: '********',
    });
  });

  it('refuses anonymous callers and mass assignment', async () => {
    const body = { catalogId: 'whoami', hostname: 'nobody' };
    expectError(await t.http().post('/api/apps').send(body), 401);
    for (const extra of [{ ownerId: admin.userId }, { status: 'running' }, { vmid: 200_999 }]) {
      const res = await t
        .http()
        .post('/api/apps')
        .set(bearer(user))
        .send({ ...body, ...extra });
      expectError(res, 400);
    }
    const rows = await sql().execute("select id from application where hostname = 'nobody'");
    expect(rows).toHaveLength(0);
  });

  it('validates hostname, environment, resources and node', async () => {
    const post = (body: Record<string, unknown>) =>
      t
        .http()
        .post('/api/apps')
        .set(bearer(user))
        .send({ catalogId: 'whoami', hostname: 'valid-name', ...body });
    expectError(await post({ hostname: 'Upper' }), 400, ['hostname']);
    expectError(await post({ hostname: '-dash' }), 400, ['hostname']);
    expectError(await post({ hostname: 'a'.repeat(64) }), 400, ['hostname']);
    expectError(await post({ environment: { UNKNOWN: 'x' } }), 400, ['environment.UNKNOWN']);
    expectError(await post({ environment: { NAME: 'x'.repeat(4097) } }), 400, ['environment.NAME']);
    expectError(await post({ environment: { 'bad-key': 'x' } }), 400, ['environment.bad-key']);
    expectError(await post({ resources: { memoryMb: 64 } }), 400, ['resources.memoryMb']);
    expectError(await post({ resources: { cores: 10_000 } }), 400, ['resources.cores']);
    expectError(await post({ node: 'pve9' }), 400, ['node']);
    expectError(await post({ catalogId: 'no-such-app' }), 400, ['catalogId']);
    expectError(await post({ hostId: '6f0329e7-66c4-4935-9e46-5287f961dcfd' }), 400, ['hostId']);
    expect(hostId).toBeDefined();
    const rows = await sql().execute("select id from application where hostname = 'valid-name'");
    expect(rows).toHaveLength(0);
  });
});
