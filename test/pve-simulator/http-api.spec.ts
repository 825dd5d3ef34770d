import proxmoxApi from 'proxmox-api';
import { fetch } from 'undici';
import { apiError, SimulatorFixture } from './testing/simulator-fixture';
import { pinnedAgent } from './testing/pinned-tls';

describe('the simulator speaks HTTPS like pveproxy', () => {
  let fx: SimulatorFixture;

  beforeAll(async () => {
    fx = await SimulatorFixture.start();
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('answers with the {data} envelope and exactly application/json;charset=UTF-8', async () => {
    const response = await fx.raw('GET', '/api2/json/version', undefined, {
      authorization: `PVEAPIToken=${fx.sim.tokenId}=${fx.sim.tokenSecret}`,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json;charset=UTF-8');
    expect(response.headers.get('server')).toBe('pve-api-daemon/3.0');
    expect(JSON.parse(response.text)).toEqual({
      data: { version: '9.2.11', release: '9.2', repoid: expect.stringMatching(/^[0-9a-f]{8,}$/) },
    });
  });

  it('serves the real proxmox-api client with token auth and with ticket auth', async () => {
    expect(await fx.token.version.$get()).toMatchObject({ release: '9.2' });
    expect(await fx.ticket.version.$get()).toMatchObject({ release: '9.2' });
    const nodes = await fx.ticket.nodes.$get();
    expect(nodes.map((node) => node.node)).toEqual(['pve1', 'pve2']);
    expect(nodes[0]).toMatchObject({
      status: 'online',
      type: 'node',
      id: 'node/pve1',
      ssl_fingerprint: fx.sim.tlsFingerprint,
    });
  });

  it('refuses a call without credentials with 401 "No ticket" and an empty body', async () => {
    const response = await fx.raw('GET', '/api2/json/nodes');
    expect(response.status).toBe(401);
    expect(response.statusText).toBe('No ticket');
    expect(response.text).toBe('');
    expect(response.headers.get('content-type')).toBeNull();
  });

  it('refuses a wrong token or a forged ticket with 401 "Authentication failed!"', async () => {
    const agent = pinnedAgent(fx.sim.tlsFingerprint);
    const url = new URL(fx.sim.api);
    const wrong = proxmoxApi({
      host: url.hostname,
      port: Number(url.port),
      tokenID: fx.sim.tokenId,
      tokenSecret: '00000000-0000-0000-0000-000000000000',
      fetch: (u, init) => fetch(u, { ...init, dispatcher: agent }),
    });
    expect(await apiError(wrong.version.$get())).toMatch(/return Error 401 Authentication failed!/);
    const forged = await fx.raw('GET', '/api2/json/version', undefined, {
      cookie: 'PVEAuthCookie=PVE:root@pam:66A1B2C3::Zm9yZ2Vk',
    });
    expect([forged.status, forged.statusText]).toEqual([401, 'Authentication failed!']);
    await agent.close();
  });

  it('answers a wrong login with 401 "authentication failure"', async () => {
    const response = await fx.raw(
      'POST',
      '/api2/json/access/ticket',
      `username=root%40pam&password=wrong`,
      { 'content-type': 'application/x-www-form-urlencoded' },
    );
    expect([response.status, response.statusText]).toEqual([401, 'authentication failure']);
    expect(JSON.parse(response.text)).toEqual({ data: null, message: 'authentication failure\n' });
  });

  it('issues tickets and CSRF tokens in Proxmox format and requires the CSRF header on writes', async () => {
    const login = await fx.raw(
      'POST',
      '/api2/json/access/ticket',
      `username=${encodeURIComponent(fx.sim.username)}&password=${encodeURIComponent(fx.sim.password)}`,
      {
        'content-type': 'application/x-www-form-urlencoded',
      },
    );
    const { data } = JSON.parse(login.text) as {
      data: { ticket: string; CSRFPreventionToken: string; username: string };
    };
    expect(data.username).toBe('root@pam');
    expect(data.ticket).toMatch(/^PVE:root@pam:[0-9A-F]{8}::\S+$/);
    expect(data.CSRFPreventionToken).toMatch(/^[0-9A-F]{8}:\S+$/);
    const cookie = `PVEAuthCookie=${encodeURIComponent(data.ticket)}`;
    expect((await fx.raw('GET', '/api2/json/version', undefined, { cookie })).status).toBe(200);
    const withoutCsrf = await fx.raw('PUT', '/api2/json/nodes/pve1/lxc/100/config', 'memory=1024', {
      cookie,
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect([withoutCsrf.status, withoutCsrf.statusText]).toEqual([
      401,
      'Permission denied - invalid csrf token',
    ]);
    const withCsrf = await fx.raw('PUT', '/api2/json/nodes/pve1/lxc/100/config', 'memory=1024', {
      cookie,
      csrfpreventiontoken: data.CSRFPreventionToken,
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(withCsrf.statusText).toBe("Configuration file 'nodes/pve1/lxc/100.conf' does not exist");
  });

  it('answers unknown paths with 501 like pveproxy', async () => {
    expect(
      await apiError((fx.token as unknown as { foo: { $get(): Promise<unknown> } }).foo.$get()),
    ).toContain("connection failed with 501 Method 'GET /foo' not implemented");
    const outside = await fx.raw('GET', '/nothing-here');
    expect([outside.status, outside.statusText]).toEqual([501, 'no such uri']);
  });

  it('validates parameters against the Proxmox schema with its messages', async () => {
    const message = await apiError(
      fx.token.nodes.$('pve1').lxc.$post({
        vmid: 'abc',
        ostemplate: 'local:vztmpl/x.tar.zst',
        password: 'abc',
        memory: 8,
        bogus: 1,
      } as never),
    );
    expect(message).toContain('return Error 400 Parameter verification failed.');
    const body = JSON.parse(message.slice(message.indexOf('{'))) as {
      errors: Record<string, string>;
    };
    expect(body.errors).toEqual({
      vmid: "type check ('integer') failed - got 'abc'",
      password: 'value must be at least 5 characters long',
      memory: 'value must have a minimum value of 16',
      bogus:
        'property is not defined in schema and the schema does not allow additional properties',
    });
  });

  it('checks property strings and named formats', async () => {
    const message = await apiError(
      fx.token.nodes.$('pve1').lxc.$post({
        vmid: 150,
        ostemplate: 'local:vztmpl/x.tar.zst',
        net0: 'bridge=vmbr0',
        hostname: 'bad_name',
      }),
    );
    const body = JSON.parse(message.slice(message.indexOf('{'))) as {
      errors: Record<string, string>;
    };
    expect(body.errors).toEqual({
      net0: 'invalid format - format error\nnet0.name: property is missing and it is not optional\n',
      hostname: 'invalid format - value does not look like a valid DNS name\n',
    });
  });

  it('answers a request for an unknown node the way pveproxy fails to proxy it', async () => {
    expect(await apiError(fx.token.nodes.$('nope').lxc.$get())).toContain(
      "return Error 500 hostname lookup 'nope' failed - failed to get address info for: nope: Name or service not known",
    );
  });

  it('compresses large answers when the client accepts gzip, as pveproxy does', async () => {
    await fx.control('POST', '/_sim/guests', { node: 'pve1', vmid: 900, hostname: 'big' });
    const response = await fx.raw('GET', '/api2/json/cluster/resources', undefined, {
      authorization: `PVEAPIToken=${fx.sim.tokenId}=${fx.sim.tokenSecret}`,
      'accept-encoding': 'gzip',
    });
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(response.headers.get('content-type')).toBe('application/json;charset=UTF-8');
    expect((JSON.parse(response.text) as { data: unknown[] }).data.length).toBeGreaterThan(4);
  });

  it('lists cluster resources by type', async () => {
    await fx.control('POST', '/_sim/guests', {
      node: 'pve2',
      vmid: 901,
      hostname: 'other',
      status: 'stopped',
      tags: ['b', 'a'],
    });
    // Name and status come with pvestatd's next tick: a short interval brings it soon.
    await fx.control('POST', '/_sim/latency', { statsIntervalMs: 20 });
    const vms = await fx.until(
      () => fx.token.cluster.resources.$get({ type: 'vm' }),
      (rows) => rows.some((item) => item.vmid === 901 && item.status !== 'unknown'),
    );
    expect(vms.find((item) => item.vmid === 901)).toMatchObject({
      id: 'lxc/901',
      type: 'lxc',
      node: 'pve2',
      name: 'other',
      status: 'stopped',
      template: 0,
      tags: 'a;b',
    });
    const storages = await fx.token.cluster.resources.$get({ type: 'storage' });
    expect(storages.map((item) => item.id).sort()).toEqual([
      'storage/pve1/local',
      'storage/pve1/local-lvm',
      'storage/pve2/local',
      'storage/pve2/local-lvm',
    ]);
    expect(storages.find((item) => item.id === 'storage/pve1/local')).toMatchObject({
      plugintype: 'dir',
      content: 'backup,iso,vztmpl',
      shared: 0,
    });
  });

  it('reports the next free VMID as a string and refuses one in use', async () => {
    await fx.control('POST', '/_sim/guests', { node: 'pve1', vmid: 100, hostname: 'first' });
    expect(await fx.token.cluster.nextid.$get()).toBe('101');
    expect(await fx.token.cluster.nextid.$get({ vmid: 555 })).toBe('555');
    const message = await apiError(fx.token.cluster.nextid.$get({ vmid: 100 }));
    expect(message).toContain('return Error 400 Parameter verification failed.');
    expect(message).toContain('"errors":{"vmid":"VM 100 already exists"}');
  });

  it('reports node status', async () => {
    const status = await fx.token.nodes.$('pve2').status.$get();
    expect(status).toMatchObject({
      cpuinfo: { cpus: 8 },
      memory: { total: 32 * 1024 ** 3 },
      pveversion: expect.stringMatching(/^pve-manager\/9\.2\.11\//),
    });
    expect(status.uptime).toBeGreaterThan(0);
  });
});

describe('401 answers are delayed like pveproxy when configured', () => {
  it('waits unauthorizedDelayMs before answering a 401', async () => {
    const fx = await SimulatorFixture.start({ unauthorizedDelayMs: 300 });
    try {
      const started = Date.now();
      const response = await fx.raw('GET', '/api2/json/version');
      expect(response.status).toBe(401);
      expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    } finally {
      await fx.close();
    }
  });
});
