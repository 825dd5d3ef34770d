import { SimulatorFixture, TEMPLATE } from './testing/simulator-fixture';

/**
 * Long enough that the forked vzstart task is still running when the test sees
 * the create (or rollback) task stopped, even on a loaded CI machine.
 */
const HOLD_TASK_MS = 2000;

describe('start=1 on create and rollback: a separate vzstart task', () => {
  let fx: SimulatorFixture;
  SimulatorFixture.perFile((started) => (fx = started));

  const node = (): ReturnType<SimulatorFixture['token']['nodes']['$']> => fx.token.nodes.$('pve1');

  it('ends the create task OK while the container is still starting in its own vzstart task', async () => {
    await fx.control('POST', '/_sim/latency', { taskMs: HOLD_TASK_MS });
    const create = await node().lxc.$post({
      vmid: 101,
      ostemplate: TEMPLATE,
      rootfs: 'local-lvm:8',
      start: true,
    });
    expect((await fx.waitTask(create)).exitstatus).toBe('OK');
    expect(await fx.taskLog(create)).not.toContainEqual(expect.stringMatching(/start/i));

    const start = await fx.latestTask('pve1', 101, 'vzstart');
    expect(start).not.toBe(create);
    expect(start.split(':')[7]).toBe(create.split(':')[7]);
    expect(await fx.taskStatus(start)).toMatchObject({ status: 'running', type: 'vzstart' });
    expect(await node().lxc.$(101).status.current.$get()).toMatchObject({ status: 'stopped' });

    expect((await fx.waitTask(start)).exitstatus).toBe('OK');
    expect(await fx.taskLog(start)).toEqual(['TASK OK']);
    expect(await node().lxc.$(101).status.current.$get()).toMatchObject({ status: 'running' });
    const listed = await node().tasks.$get({ vmid: 101 });
    expect(listed.map((task) => [task.type, task.upid])).toEqual([
      ['vzstart', start],
      ['vzcreate', create],
    ]);
  });

  it('lets the start fail after the create succeeded (a failTask rule on POST …/status/start)', async () => {
    await fx.control('POST', '/_sim/latency', { taskMs: 10 });
    const [ruleId] = (
      (
        await fx.control('POST', '/_sim/faults', {
          rules: [
            { method: 'POST', path: '/status/start$', failTask: 'startup for container failed' },
          ],
        })
      ).body as { ids: number[] }
    ).ids;
    const created = await fx.createContainer(102, { start: true });
    expect(created.exitstatus).toBe('OK');
    const start = await fx.latestTask('pve1', 102, 'vzstart');
    expect((await fx.waitTask(start)).exitstatus).toBe('startup for container failed');
    expect((await fx.taskLog(start)).pop()).toBe('TASK ERROR: startup for container failed');
    expect((await fx.state()).containers).toEqual([
      expect.objectContaining({ vmid: 102, status: 'stopped', locked: null }),
    ]);
    expect(
      ((await fx.control('GET', '/_sim/faults')).body as { rules: Array<{ id: number }> }).rules,
    ).toEqual([expect.objectContaining({ id: ruleId, fired: 1 })]);
  });

  it('ends a rollback with start=1 before its vzstart task, both listed for the guest', async () => {
    await fx.control('POST', '/_sim/latency', { taskMs: 10 });
    await fx.createContainer(103, { start: true });
    await fx.waitTask(await node().lxc.$(103).snapshot.$post({ snapname: 'v1' }));
    await fx.control('POST', '/_sim/latency', { taskMs: HOLD_TASK_MS });
    const rollback = await node().lxc.$(103).snapshot.$('v1').rollback.$post({ start: true });
    expect((await fx.waitTask(rollback)).exitstatus).toBe('OK');
    const start = await fx.latestTask('pve1', 103, 'vzstart');
    expect(await fx.taskStatus(start)).toMatchObject({ status: 'running' });
    expect(await node().lxc.$(103).status.current.$get()).toMatchObject({ status: 'stopped' });
    expect((await fx.waitTask(start)).exitstatus).toBe('OK');
    expect(await node().lxc.$(103).status.current.$get()).toMatchObject({ status: 'running' });
    const types = (await node().tasks.$get({ vmid: 103, source: 'all' })).map((task) => task.type);
    expect(types.slice(0, 2)).toEqual(['vzstart', 'vzrollback']);
  });
});
