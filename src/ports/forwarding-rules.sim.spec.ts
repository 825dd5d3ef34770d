import { SimulatorFixture } from '../../test/pve-simulator/testing/simulator-fixture';
import type { ShellTarget } from '../proxmox/shell/node-shell';
import { NodeShellErrorKind } from '../proxmox/shell/shell-errors';
import { shellError, simTarget, TrackingShell } from '../proxmox/shell/testing/shell-fixture';
import { ForwardingConflictError, ForwardingRules, ruleComment } from './forwarding-rules';

describe('ForwardingRules against the Proxmox VE simulator', () => {
  let fx: SimulatorFixture;
  let target: ShellTarget;
  let shell: TrackingShell;
  let rules: ForwardingRules;
  const appA = '3f6c1d52-0000-4000-8000-00000000000a';
  const appB = '3f6c1d52-0000-4000-8000-00000000000b';
  const web = {
    publicPort: 30080,
    protocol: 'tcp',
    targetAddress: '127.77.1.5',
    targetPort: 80,
  } as const;
  const dns = {
    publicPort: 30053,
    protocol: 'udp',
    targetAddress: '127.77.1.5',
    targetPort: 53,
  } as const;

  const forwards = async () =>
    (await fx.state()).forwards
      .map((f) => `${f.node} ${f.publicPort}/${f.protocol} ${f.target} ${f.comment}`)
      .sort();

  beforeAll(async () => {
    fx = await SimulatorFixture.start();
    target = simTarget(fx.sim);
  });
  afterAll(async () => {
    await fx?.close();
  });
  beforeEach(async () => {
    await fx.control('POST', '/_sim/reset');
    await fx.control('POST', '/_sim/latency', { taskMs: 10 });
    shell = new TrackingShell();
    rules = new ForwardingRules(shell);
  });
  afterEach(() => {
    expect(shell.open).toBe(0);
  });

  it('adds the rules once, tagged with the application id; applying again changes nothing', async () => {
    expect(await rules.apply(target, appA, [web, dns])).toEqual({ added: 2, removed: 0, kept: 0 });
    expect(await forwards()).toEqual([
      `pve1 30053/udp 127.77.1.5:53 proximity:${appA}`,
      `pve1 30080/tcp 127.77.1.5:80 proximity:${appA}`,
    ]);
    expect(await rules.apply(target, appA, [web, dns])).toEqual({ added: 0, removed: 0, kept: 2 });
    expect((await fx.state()).forwards).toHaveLength(2);
  });

  it('replaces a rule whose target changed and drops one no longer wanted', async () => {
    await rules.apply(target, appA, [web, dns]);
    const moved = { ...web, targetAddress: '127.77.1.9' };
    expect(await rules.apply(target, appA, [moved])).toEqual({ added: 1, removed: 2, kept: 0 });
    expect(await forwards()).toEqual([`pve1 30080/tcp 127.77.1.9:80 proximity:${appA}`]);
  });

  it("removes one application's rules only, and removing again is a no-op", async () => {
    await rules.apply(target, appA, [web]);
    await rules.apply(target, appB, [{ ...dns, publicPort: 30054 }]);
    expect(await rules.remove(target, appA)).toBe(1);
    expect(await rules.remove(target, appA)).toBe(0);
    expect(await forwards()).toEqual([`pve1 30054/udp 127.77.1.5:53 proximity:${appB}`]);
  });

  it('removes the rules of the handles given, once; other rules stay', async () => {
    await rules.apply(target, appA, [web]);
    await rules.apply(target, appB, [{ ...dns, publicPort: 30054 }]);
    const [ofA] = (await rules.list(target)).filter((r) => r.comment === ruleComment(appA));
    expect(await rules.removeHandles(target, [ofA.handle])).toBe(1);
    expect(await rules.removeHandles(target, [ofA.handle])).toBe(0);
    expect(await forwards()).toEqual([`pve1 30054/udp 127.77.1.5:53 proximity:${appB}`]);
  });

  it('removing on a node that never had a rule is a no-op', async () => {
    expect(await rules.remove(target, appA)).toBe(0);
    expect(await rules.list(target)).toEqual([]);
  });

  it('never takes over a port another rule forwards, and changes nothing then', async () => {
    await rules.apply(target, appA, [web]);
    const before = await forwards();
    await expect(
      rules.apply(target, appB, [dns, { ...web, targetAddress: '127.77.2.2' }]),
    ).rejects.toThrow(ForwardingConflictError);
    expect(await forwards()).toEqual(before);
  });

  it('programs another node through a hop', async () => {
    const hop: ShellTarget = { ...target, via: 'hop', node: 'pve2' };
    await rules.apply(hop, appA, [web]);
    expect(await forwards()).toEqual([`pve2 30080/tcp 127.77.1.5:80 proximity:${appA}`]);
    expect(await rules.remove(hop, appA)).toBe(1);
    expect(await forwards()).toEqual([]);
  });

  it('a dropped connection mid-way fails transient; the next apply completes the set', async () => {
    await fx.control('POST', '/_sim/faults', {
      rules: [{ sshCommand: "'dport' '30053'", dropConnection: true, times: 1 }],
    });
    const error = await shellError(rules.apply(target, appA, [web, dns]));
    expect([error.kind, error.transient]).toEqual([NodeShellErrorKind.ConnectionLost, true]);
    expect(await rules.apply(target, appA, [web, dns])).toMatchObject({ added: 1, kept: 1 });
    expect((await fx.state()).forwards).toHaveLength(2);
  });

  it('refuses an application id that is not plain before touching the node', () => {
    expect(() => ruleComment('a" ; flush ruleset')).toThrow();
    expect(shell.opened).toBe(0);
  });
});
