import { apiError, SimulatorFixture, TEMPLATE, UPID_PATTERN } from './testing/simulator-fixture';

/** Timers that would keep the process alive (unref'd ones are not listed). */
function armedTimers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}

// Counted inside a test, as the last check is, so Jest's own per-test timeout
// timer is in both counts.
let timersBefore = 0;
it('counts the timers armed before any simulator starts', () => {
  timersBefore = armedTimers();
});

describe('tasks', () => {
  let fx: SimulatorFixture;
  SimulatorFixture.perFile((started) => (fx = started));

  beforeEach(async () => {
    await fx.control('POST', '/_sim/latency', { taskMs: 10 });
  });

  it('runs for the configured task latency, then stops with an exit status and a log', async () => {
    await fx.createContainer(101);
    expect(await fx.control('POST', '/_sim/latency', { taskMs: 250 })).toMatchObject({
      status: 200,
      body: {
        taskMs: 250,
        httpMs: 0,
        sshMs: 0,
        lockWaitMs: 10_000,
        statsIntervalMs: 10_000,
        dhcpLeaseMs: 3_000,
      },
    });
    const upid = await fx.token.nodes.$('pve1').lxc.$(101).status.start.$post();
    expect(upid).toMatch(UPID_PATTERN);
    const running = await fx.taskStatus(upid);
    expect(running).toMatchObject({
      upid,
      node: 'pve1',
      status: 'running',
      type: 'vzstart',
      id: '101',
    });
    expect(running.exitstatus).toBeUndefined();
    expect((await fx.state()).tasks.running).toBe(1);
    const stopped = await fx.waitTask(upid);
    expect(stopped).toMatchObject({ status: 'stopped', exitstatus: 'OK' });
    expect(typeof stopped.pid).toBe('number');
    expect(stopped.starttime).toBe(parseInt(upid.split(':')[4], 16));
    expect(await fx.token.nodes.$('pve1').tasks.$(upid).log.$get()).toEqual([
      { n: 1, t: 'TASK OK' },
    ]);
    expect(await fx.control('GET', '/_sim/latency')).toMatchObject({
      status: 200,
      body: {
        taskMs: 250,
        httpMs: 0,
        sshMs: 0,
        lockWaitMs: 10_000,
        statsIntervalMs: 10_000,
        dhcpLeaseMs: 3_000,
      },
    });
  });

  it('pages task logs and lists tasks per node with filters', async () => {
    const create = (await fx.createContainer(102)).upid as string;
    const lines = await fx.taskLog(create);
    expect(lines.length).toBeGreaterThan(3);
    const page = await fx.token.nodes.$('pve1').tasks.$(create).log.$get({ start: 1, limit: 2 });
    expect(page).toEqual([
      { n: 2, t: lines[1] },
      { n: 3, t: lines[2] },
    ]);
    const tasks = await fx.token.nodes.$('pve1').tasks.$get({ vmid: 102, typefilter: 'vzcreate' });
    expect(tasks).toEqual([
      expect.objectContaining({
        upid: create,
        type: 'vzcreate',
        status: 'OK',
        user: 'root@pam',
        tokenid: 'proximity',
        endtime: expect.any(Number),
      }),
    ]);
    expect(await fx.token.nodes.$('pve2').tasks.$get()).toEqual([]);
  });

  it('answers unknown or malformed UPIDs like the tasks API', async () => {
    expect(await apiError(fx.token.nodes.$('pve1').tasks.$('nonsense').status.$get())).toContain(
      `"errors":{"upid":"unable to parse worker upid"}`,
    );
    expect(
      await apiError(
        fx.token.nodes
          .$('pve1')
          .tasks.$('UPID:pve1:00001234:00005678:66A1B2C3:vzstart:100:root@pam:')
          .status.$get(),
      ),
    ).toContain(`"errors":{"upid":"no such task"}`);
  });

  it('knows a task only on the node that ran it, as the per-node task logs do', async () => {
    const upid = await fx.token.nodes.$('pve1').lxc.$post({
      vmid: 105,
      ostemplate: TEMPLATE,
      rootfs: 'local-lvm:8',
    });
    await fx.waitTask(upid);
    const elsewhere = fx.token.nodes.$('pve2').tasks.$(upid);
    const refused = await apiError(elsewhere.status.$get());
    expect(refused).toContain('return Error 400 Parameter verification failed.');
    expect(refused).toContain(`"errors":{"upid":"no such task"}`);
    expect(await elsewhere.log.$get()).toEqual([
      { n: 1, t: 'unable to open file - No such file or directory' },
    ]);
    expect((await fx.taskStatus(upid)).exitstatus).toBe('OK');
  });

  it('reports counters in /_sim/state', async () => {
    await fx.createContainer(103, { ostemplate: 'local:vztmpl/missing.tar.zst' });
    await fx.createContainer(104);
    const state = await fx.state();
    expect(state.tasks).toEqual({ running: 0, failed: 1, total: 2 });
    expect(state.calls).toBeGreaterThan(2);
  });
});

describe('fault rules', () => {
  let fx: SimulatorFixture;

  beforeAll(async () => {
    fx = await SimulatorFixture.start({ seed: 7 });
  });

  afterAll(async () => {
    await fx?.close();
  });

  beforeEach(async () => {
    await fx.control('POST', '/_sim/reset');
    await fx.control('POST', '/_sim/latency', { taskMs: 10 });
  });

  async function addRules(...rules: unknown[]): Promise<number[]> {
    const response = await fx.control('POST', '/_sim/faults', { rules });
    expect(response.status).toBe(201);
    return (response.body as { ids: number[] }).ids;
  }

  it('answers with a Proxmox-style error status and message', async () => {
    await addRules({
      method: 'POST',
      path: '/lxc$',
      status: 500,
      message: 'unable to create CT - storage busy',
    });
    expect(await apiError(fx.createContainer(101))).toContain(
      'return Error 500 unable to create CT - storage busy: {"data":null,"message":"unable to create CT - storage busy\\n"}',
    );
    expect(await fx.token.version.$get()).toMatchObject({ release: '9.2' });
  });

  it('answers proxy pseudo-statuses like 596 the way pveproxy does', async () => {
    await addRules({ path: '/nodes/pve2/', status: 596, message: 'Connection timed out' });
    expect(await apiError(fx.token.nodes.$('pve2').lxc.$get())).toContain(
      'connection failed with 596 Connection timed out',
    );
  });

  it('delays requests', async () => {
    await addRules({ path: '^/api2/json/version$', delayMs: 250 });
    const started = Date.now();
    await fx.token.version.$get();
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('lets the task start and fails it with the given exit status (or "simulated failure")', async () => {
    await addRules(
      { method: 'POST', path: '/status/start$', failTask: 'startup for container failed' },
      { method: 'POST', path: '/snapshot$', failTask: true },
    );
    await fx.createContainer(102);
    const start = await fx.token.nodes.$('pve1').lxc.$(102).status.start.$post();
    expect((await fx.waitTask(start)).exitstatus).toBe('startup for container failed');
    expect((await fx.taskLog(start)).pop()).toBe('TASK ERROR: startup for container failed');
    expect((await fx.state()).containers[0].status).toBe('stopped');
    const snapshot = await fx.token.nodes.$('pve1').lxc.$(102).snapshot.$post({ snapname: 'snap' });
    expect((await fx.waitTask(snapshot)).exitstatus).toBe('simulated failure');
    expect((await fx.state()).containers[0]).toMatchObject({ locked: null, snapshots: [] });
  });

  it('joins a multi-line task error with spaces, as fork_worker does, in the status and the log', async () => {
    await addRules({
      method: 'POST',
      path: '/status/start$',
      failTask: 'lxc-start failed\nstartup for container failed\n',
    });
    await fx.createContainer(104);
    const start = await fx.token.nodes.$('pve1').lxc.$(104).status.start.$post();
    const joined = 'lxc-start failed startup for container failed';
    expect((await fx.waitTask(start)).exitstatus).toBe(joined);
    expect((await fx.taskLog(start)).pop()).toBe(`TASK ERROR: ${joined}`);
    const [listed] = await fx.token.nodes
      .$('pve1')
      .tasks.$get({ vmid: 104, typefilter: 'vzstart' });
    expect(listed.status).toBe(joined);
  });

  it('removes what a failed create set up', async () => {
    await addRules({
      method: 'POST',
      path: '/nodes/pve1/lxc$',
      failTask: 'unable to create CT 103 - no space left on device',
    });
    expect((await fx.createContainer(103)).exitstatus).toBe(
      'unable to create CT 103 - no space left on device',
    );
    expect((await fx.state()).containers).toEqual([]);
    expect(await fx.token.cluster.nextid.$get()).toBe('100');
  });

  it('drops the connection', async () => {
    await addRules({ path: '/cluster/resources', dropConnection: true });
    // A raw request, not fx.token: proxmox-api 1.1.1 (ProxmoxEngine.doRequest)
    // clears its 60 s abort timer only when fetch resolves, so a dropped
    // connection would leave two armed timers (request and retry) that keep
    // the Jest worker alive after the file ends.
    const failure = await fx
      .raw('GET', '/api2/json/cluster/resources', undefined, {
        authorization: `PVEAPIToken=${fx.sim.tokenId}=${fx.sim.tokenSecret}`,
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(failure).toMatchObject({
      message: 'fetch failed',
      cause: { code: 'UND_ERR_SOCKET' },
    });
    expect(await fx.token.version.$get()).toMatchObject({ release: '9.2' });
  });

  it('fires a limited number of times and counts how often each rule fired', async () => {
    const [id] = await addRules({ path: '/version$', status: 503, message: 'busy', times: 2 });
    expect(await apiError(fx.token.version.$get())).toContain('connection failed with 503 busy');
    expect(await apiError(fx.token.version.$get())).toContain('connection failed with 503 busy');
    expect(await fx.token.version.$get()).toMatchObject({ release: '9.2' });
    expect((await fx.control('GET', '/_sim/faults')).body).toEqual({
      rules: [expect.objectContaining({ id, path: '/version$', status: 503, times: 2, fired: 2 })],
    });
    expect((await fx.control('DELETE', '/_sim/faults')).status).toBe(200);
    expect((await fx.control('GET', '/_sim/faults')).body).toEqual({ rules: [] });
  });

  it('fires at random with the seeded probability', async () => {
    await addRules(
      { path: '/version$', status: 500, message: 'flaky', probability: 0.5 },
      { path: '/nodes$', status: 500, probability: 0 },
    );
    let failures = 0;
    for (let i = 0; i < 40; i++) {
      try {
        await fx.token.version.$get();
      } catch {
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(5);
    expect(failures).toBeLessThan(35);
    expect(await fx.token.nodes.$get()).toHaveLength(2);
    const rules = (await fx.control('GET', '/_sim/faults')).body as {
      rules: Array<{ fired: number }>;
    };
    expect(rules.rules.map((rule) => rule.fired)).toEqual([failures, 0]);
  });

  it('replaces the data of an answer, e.g. a node list no real cluster would send', async () => {
    await addRules({ method: 'GET', path: '/nodes$', data: [{ node: 'bad/../name' }], times: 1 });
    expect(await fx.token.nodes.$get()).toEqual([{ node: 'bad/../name' }]);
    expect((await fx.token.nodes.$get()).map((n) => n.node)).toEqual(['pve1', 'pve2']);
    await addRules({ path: '/version$', data: null, times: 1 });
    expect(await fx.token.version.$get()).toBeNull();
  });

  it('pads an answer with spaces to any size, still valid JSON, gzipped when accepted', async () => {
    await addRules({ path: '/version$', padBytes: 2_000_000 });
    const plain = await fx.raw('GET', '/api2/json/version', undefined, {
      authorization: `PVEAPIToken=${fx.sim.tokenId}=${fx.sim.tokenSecret}`,
      'accept-encoding': 'identity',
    });
    expect(plain.text.length).toBeGreaterThan(2_000_000);
    expect(JSON.parse(plain.text)).toMatchObject({ data: { release: '9.2' } });
    const gzipped = await fx.raw('GET', '/api2/json/version', undefined, {
      authorization: `PVEAPIToken=${fx.sim.tokenId}=${fx.sim.tokenSecret}`,
      'accept-encoding': 'gzip',
    });
    expect(gzipped.headers.get('content-encoding')).toBe('gzip');
    expect(gzipped.text).toBe(plain.text);
    await addRules({ path: '/cluster/resources$', padBytes: 10 });
    expect(Array.isArray(await fx.token.cluster.resources.$get())).toBe(true);
  });

  it('never applies to /_sim/ routes and tries rules in the order they were added', async () => {
    await addRules({ status: 500, message: 'first', times: 1 }, { status: 500, message: 'second' });
    expect((await fx.control('GET', '/_sim/state')).status).toBe(200);
    expect(await apiError(fx.token.version.$get())).toContain('500 first');
    expect(await apiError(fx.token.version.$get())).toContain('500 second');
  });

  it('refuses malformed rules', async () => {
    expect((await fx.control('POST', '/_sim/faults', { rules: [{ path: '(' }] })).status).toBe(400);
    expect((await fx.control('POST', '/_sim/faults', { rules: [{ probability: 2 }] })).status).toBe(
      400,
    );
    expect((await fx.control('POST', '/_sim/faults', { rules: [{ colour: 'red' }] })).body).toEqual(
      { error: "rules[0]: unknown field 'colour'" },
    );
    expect((await fx.control('POST', '/_sim/faults', { nope: [] })).status).toBe(400);
    expect(
      (await fx.control('POST', '/_sim/faults', { rules: [{ data: [], status: 500 }] })).status,
    ).toBe(400);
    expect((await fx.control('POST', '/_sim/faults', { rules: [{ padBytes: -1 }] })).status).toBe(
      400,
    );
  });

  it('applies sshCommand rules to SSH commands: exit status and message, or a dropped connection', async () => {
    await addRules({
      sshCommand: '^nft ',
      status: 1,
      message: 'Error: Could not process rule: Device or resource busy',
    });
    const result = await fx.exec('nft add table ip proximity');
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: Could not process rule: Device or resource busy\n',
    });
    expect((await fx.exec('echo still here')).stdout).toBe('still here\n');
    await addRules({ sshCommand: 'drop-me', dropConnection: true });
    const client = await fx.ssh();
    const outcome = await new Promise<string>((resolve) => {
      client.on('close', () => resolve('closed'));
      client.exec('echo drop-me', () => undefined);
    });
    expect(outcome).toBe('closed');
  });
});

// Guards against a leak such as proxmox-api's abort timer after a failed
// request: Jest then reports that a worker had to be force-exited, without
// saying which file left the timer.
it('leaves no timer armed once its simulators and clients are closed', () => {
  expect(armedTimers()).toBeLessThanOrEqual(timersBefore);
});
