import { apiError, SimulatorFixture, TEMPLATE } from './testing/simulator-fixture';

/**
 * How long the create under test holds its config file lock: long enough that
 * every following request reaches the simulator while it still runs, even on a
 * loaded CI machine.
 */
const HOLD_TASK_MS = 3000;

const lockTimeout = (vmid: number): string =>
  `can't lock file '/run/lock/lxc/pve-config-${vmid}.lock' - got timeout`;

describe('config file lock (lock_config)', () => {
  let fx: SimulatorFixture;
  SimulatorFixture.perFile((started) => (fx = started));

  /** Starts a create that holds the config file lock of `vmid` for HOLD_TASK_MS. */
  async function slowCreate(vmid: number): Promise<string> {
    await fx.control('POST', '/_sim/latency', { taskMs: HOLD_TASK_MS });
    return await fx.token.nodes
      .$('pve1')
      .lxc.$post({ vmid, ostemplate: TEMPLATE, rootfs: 'local-lvm:8' });
  }

  it('has lockWaitMs in /_sim/latency: 10000 by default and after a reset', async () => {
    expect((await fx.control('GET', '/_sim/latency')).body).toMatchObject({ lockWaitMs: 10_000 });
    expect(await fx.control('POST', '/_sim/latency', { lockWaitMs: 250 })).toMatchObject({
      status: 200,
      body: { lockWaitMs: 250 },
    });
    expect(await fx.control('POST', '/_sim/latency', { lockWaitMs: -1 })).toEqual({
      status: 400,
      body: { error: 'lockWaitMs must be an integer between 0 and 3600000' },
    });
    await fx.control('POST', '/_sim/reset');
    expect((await fx.control('GET', '/_sim/latency')).body).toMatchObject({ lockWaitMs: 10_000 });
  });

  it('a start asked during a create waits in its task for the lock, then starts', async () => {
    const create = await slowCreate(101);
    const start = await fx.token.nodes.$('pve1').lxc.$(101).status.start.$post();
    expect(await fx.taskStatus(start)).toMatchObject({ status: 'running', type: 'vzstart' });
    expect(await fx.taskLog(start)).toEqual(['trying to acquire lock...']);
    expect((await fx.waitTask(create)).exitstatus).toBe('OK');
    expect((await fx.waitTask(start)).exitstatus).toBe('OK');
    expect(await fx.taskLog(start)).toEqual(['trying to acquire lock...', ' OK', 'TASK OK']);
    expect(await fx.token.nodes.$('pve1').lxc.$(101).status.current.$get()).toMatchObject({
      status: 'running',
    });
  });

  it('a config PUT during a create waits in the request and applies once the create is done', async () => {
    const create = await slowCreate(102);
    await fx.token.nodes.$('pve1').lxc.$(102).config.$put({ description: 'waited' });
    expect(await fx.taskStatus(create)).toMatchObject({ status: 'stopped', exitstatus: 'OK' });
    const config = await fx.token.nodes.$('pve1').lxc.$(102).config.$get();
    expect(config).toMatchObject({ description: 'waited' });
    expect(config).not.toHaveProperty('lock');
  });

  it('pct set during a create says on stderr that it waits, then applies', async () => {
    const create = await slowCreate(103);
    const result = await fx.exec('pct set 103 --description cli');
    expect(result).toEqual({ code: 0, stdout: '', stderr: 'trying to acquire lock...\n OK\n' });
    expect(await fx.taskStatus(create)).toMatchObject({ status: 'stopped', exitstatus: 'OK' });
  });

  it('gives up after lockWaitMs with lock_file’s text: in the task or in the answer, as the Perl takes the lock', async () => {
    const create = await slowCreate(104);
    await fx.control('POST', '/_sim/latency', { lockWaitMs: 100 });
    const lxc = fx.token.nodes.$('pve1').lxc.$(104);

    // Taken inside the forked worker: the task fails.
    const start = await lxc.status.start.$post();
    const snapshot = await lxc.snapshot.$post({ snapname: 'during' });
    expect((await fx.waitTask(start)).exitstatus).toBe(lockTimeout(104));
    expect(await fx.taskLog(start)).toEqual([
      'trying to acquire lock...',
      `TASK ERROR: ${lockTimeout(104)}`,
    ]);
    expect((await fx.waitTask(snapshot)).exitstatus).toBe(lockTimeout(104));

    // Taken by the API handler itself: the request fails with 500.
    expect(await apiError(lxc.config.$put({ description: 'late' }))).toContain(
      `return Error 500 ${lockTimeout(104)}`,
    );
    expect(await apiError(lxc.clone.$post({ newid: 105 }))).toContain(
      `return Error 500 ${lockTimeout(104)}`,
    );
    expect(await fx.exec('pct set 104 --description cli')).toEqual({
      code: 255,
      stdout: '',
      stderr: `trying to acquire lock...\n${lockTimeout(104)}\n`,
    });

    expect(await fx.taskStatus(create)).toMatchObject({ status: 'running' });
    expect((await fx.waitTask(create)).exitstatus).toBe('OK');
    expect((await fx.state()).containers.map((ct) => ct.vmid)).toEqual([104]);
  });

  it('a restore over a guest whose lock is held fails create_and_lock_config with its prefix', async () => {
    await fx.control('POST', '/_sim/latency', { taskMs: 10 });
    await fx.createContainer(106);
    const backup = await fx.token.nodes
      .$('pve1')
      .vzdump.$post({ vmid: '106', storage: 'local', compress: 'zstd' });
    expect((await fx.waitTask(backup)).exitstatus).toBe('OK');
    const volid = (
      (await fx.token.nodes
        .$('pve1')
        .storage.$('local')
        .content.$get({ content: 'backup' })) as Array<{ volid: string }>
    )[0].volid;
    await fx.control('POST', '/_sim/latency', { taskMs: HOLD_TASK_MS, lockWaitMs: 100 });
    const start = await fx.token.nodes.$('pve1').lxc.$(106).status.start.$post();
    expect(
      await apiError(
        fx.token.nodes.$('pve1').lxc.$post({
          vmid: 106,
          ostemplate: volid,
          rootfs: 'local-lvm:8',
          restore: true,
          force: true,
        }),
      ),
    ).toContain(`return Error 500 unable to restore CT 106 - ${lockTimeout(106)}`);
    expect((await fx.waitTask(start)).exitstatus).toBe('OK');
  });
});
