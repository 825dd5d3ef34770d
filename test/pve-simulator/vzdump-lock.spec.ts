import { SimulatorFixture } from './testing/simulator-fixture';

/**
 * How long the first backup job runs: long enough that the next requests
 * reach the simulator while it still holds the node's lock, even under load.
 */
const HOLD_TASK_MS = 2000;

const WAITING = 'INFO: trying to get global lock - waiting...';

describe('one vzdump job per node', () => {
  let fx: SimulatorFixture;
  SimulatorFixture.perFile((started) => (fx = started));

  beforeEach(async () => {
    await fx.control('POST', '/_sim/latency', { taskMs: 10 });
  });

  const backup = (vmid: number, extra: Record<string, unknown> = {}, node = 'pve1') =>
    fx.token.nodes.$(node).vzdump.$post({ vmid: String(vmid), storage: 'local', ...extra });

  async function lockOf(vmid: number): Promise<string | null | undefined> {
    return (await fx.state()).containers.find((c) => c.vmid === vmid)?.locked;
  }

  it('makes a second job on the node wait, running, for the first while other nodes go on', async () => {
    await fx.createContainer(130);
    await fx.createContainer(131);
    await fx.createContainer(132, {}, 'pve2');
    await fx.control('POST', '/_sim/latency', { taskMs: HOLD_TASK_MS });

    const first = await backup(130);
    // The later tasks start at once: only the lock can keep the second one running.
    await fx.control('POST', '/_sim/latency', { taskMs: 10 });
    const second = await backup(131);
    const elsewhere = await backup(132, {}, 'pve2');
    expect((await fx.waitTask(elsewhere)).exitstatus).toBe('OK');
    expect(await fx.taskStatus(second)).toMatchObject({ status: 'running' });
    expect(await fx.taskLog(second)).toEqual([WAITING]);
    expect(await lockOf(130)).toBe('backup');
    expect(await lockOf(131)).toBeNull();

    expect((await fx.waitTask(first)).exitstatus).toBe('OK');
    expect((await fx.waitTask(second)).exitstatus).toBe('OK');
    const log = await fx.taskLog(second);
    expect(log.slice(0, 3)).toEqual([
      WAITING,
      'INFO: got global lock',
      'INFO: starting new backup job: vzdump 131 --storage local --node pve1',
    ]);
    expect(log.at(-1)).toBe('TASK OK');
    expect(await fx.taskLog(elsewhere)).not.toContain(WAITING);
    expect(await lockOf(131)).toBeNull();
  });

  it('gives up after lockwait minutes: the worker exits without a TASK line', async () => {
    expect((await fx.control('GET', '/_sim/latency')).body).toMatchObject({
      vzdumpMinuteMs: 60_000,
    });
    await fx.createContainer(133);
    await fx.createContainer(134);
    await fx.control('POST', '/_sim/latency', { taskMs: HOLD_TASK_MS, vzdumpMinuteMs: 1 });

    const first = await backup(133);
    const late = await backup(134, { lockwait: 1 });
    const status = await fx.waitTask(late);
    expect(status.exitstatus).toBe('unexpected status');
    expect(await fx.taskLog(late)).toEqual([
      WAITING,
      "ERROR: can't acquire lock '/var/run/vzdump.lock' - got timeout",
    ]);
    const listed = await fx.token.nodes.$('pve1').tasks.$get({ typefilter: 'vzdump' });
    expect(listed.find((task) => task.upid === late)?.status).toBe('unexpected status');
    expect(await lockOf(134)).toBeNull();

    expect((await fx.waitTask(first)).exitstatus).toBe('OK');
    await fx.control('POST', '/_sim/latency', { taskMs: 10 });
    expect((await fx.waitTask(await backup(134))).exitstatus).toBe('OK');
  });

  it('refuses at once with lockwait=0 while another job runs', async () => {
    await fx.createContainer(135);
    await fx.createContainer(136);
    await fx.control('POST', '/_sim/latency', { taskMs: HOLD_TASK_MS });

    const first = await backup(135);
    const refused = await backup(136, { lockwait: 0 });
    expect((await fx.waitTask(refused)).exitstatus).toBe('unexpected status');
    expect(await fx.taskLog(refused)).toEqual([
      "ERROR: can't acquire lock '/var/run/vzdump.lock' (wait = 0)",
    ]);
    expect((await fx.waitTask(first)).exitstatus).toBe('OK');
  });
});
