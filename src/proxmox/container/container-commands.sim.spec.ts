import { SimulatorFixture } from '../../../test/pve-simulator/testing/simulator-fixture';
import type { ShellTarget } from '../shell/node-shell';
import { NodeShellErrorKind } from '../shell/shell-errors';
import { shellError, simTarget, TrackingShell, visibleText } from '../shell/testing/shell-fixture';
import { ContainerCommands } from './container-commands';

describe('ContainerCommands against the Proxmox VE simulator', () => {
  let fx: SimulatorFixture;
  let target: ShellTarget;
  let shell: TrackingShell;
  let commands: ContainerCommands;
  const project = { directory: '/opt/proximity', name: 'demo' };
  const secret = 'pw-$(reboot)-`id`-\'"-s3cr3t';

  const firedCount = async (): Promise<number[]> =>
    ((await fx.control('GET', '/_sim/faults')).body as { rules: { fired: number }[] }).rules.map(
      (r) => r.fired,
    );

  beforeAll(async () => {
    fx = await SimulatorFixture.start();
    target = simTarget(fx.sim);
    await fx.createContainer(101, { start: true });
    await fx.createContainer(102);
  });
  afterAll(async () => {
    await fx?.close();
  });
  beforeEach(() => {
    shell = new TrackingShell();
    commands = new ContainerCommands(shell);
  });
  afterEach(async () => {
    // Every connection is closed once a call settled, whatever happened.
    expect(shell.open).toBe(0);
    await fx.control('DELETE', '/_sim/faults');
  });

  it('installs Docker once: a second run finds it and does nothing', async () => {
    expect(await commands.hasDocker(target, 101)).toBe(false);
    expect(await commands.installDocker(target, 101)).toBe(true);
    expect(await commands.hasDocker(target, 101)).toBe(true);
    const opened = shell.opened;
    expect(await commands.installDocker(target, 101)).toBe(false);
    expect(shell.opened).toBe(opened + 1);
  });

  it('writes a file from stdin, through a temporary file, with its content never on a command line', async () => {
    // The simulator matches this rule against every SSH command line: it must never fire.
    await fx.control('POST', '/_sim/faults', {
      rules: [{ sshCommand: 's3cr3t', status: 99, message: 'secret on a command line' }],
    });
    const content = `PASSWORD=${secret}\nLINE2="x"\n`;
    await commands.writeFile(target, 101, '/opt/proximity/.env', content, [secret]);
    await commands.writeFile(target, 101, '/opt/proximity/.env', content, [secret]);
    expect(await firedCount()).toEqual([0]);
    const read = await commands.execChecked(target, 101, ['cat', '/opt/proximity/.env'], {
      timeoutMs: 5_000,
    });
    expect(read.stdout).toBe(content);
    const listing = await commands.execChecked(target, 101, ['ls', '-la', '/opt/proximity'], {
      timeoutMs: 5_000,
    });
    // The simulator's ls has no long format: the mode is not visible here, the rename is.
    expect(listing.stdout.split('\n')).toContain('.env');
    expect(listing.stdout).not.toContain('proximity-tmp');
  });

  it('refuses a path or project name that is not plain, before connecting', async () => {
    for (const path of ['relative', '/opt/x;reboot', '/opt/../etc/passwd', '/opt/a b']) {
      const error = await shellError(commands.writeFile(target, 101, path, 'x'));
      expect(error.kind).toBe(NodeShellErrorKind.InvalidInput);
    }
    const error = await shellError(
      commands.composeUp(target, 101, { directory: '/opt/proximity', name: 'Bad Name' }),
    );
    expect(error.kind).toBe(NodeShellErrorKind.InvalidInput);
    expect(shell.opened).toBe(0);
  });

  it('brings a compose project up and reads every service state', async () => {
    await commands.installDocker(target, 101);
    const compose =
      'services:\n  "web":\n    "image": "nginx:1"\n    "ports":\n      - "8080:80/tcp"\n' +
      '  "worker":\n    "image": "busybox:1"\n';
    await commands.writeFile(target, 101, '/opt/proximity/compose.yaml', compose);
    await commands.composeUp(target, 101, project);
    await commands.composeUp(target, 101, project);
    const services = await commands.composeServices(target, 101, project);
    expect(services.sort((a, b) => a.service.localeCompare(b.service))).toEqual([
      { service: 'web', state: 'running' },
      { service: 'worker', state: 'running' },
    ]);
    expect((await fx.state()).containers.find((c) => c.vmid === 101)?.services.sort()).toEqual([
      'web',
      'worker',
    ]);
  });

  it('a command in a stopped container fails with the exit status and pct stderr', async () => {
    const error = await shellError(commands.composeUp(target, 102, project));
    expect(error.kind).toBe(NodeShellErrorKind.CommandFailed);
    expect(error.details).toMatchObject({
      exitCode: 255,
      stderrTail: "container '102' not running!",
    });
    expect(error.transient).toBe(false);
  });

  it('a dropped connection and a command past its timeout are transient failures', async () => {
    await fx.control('POST', '/_sim/faults', {
      rules: [
        { sshCommand: "'up' '-d'", dropConnection: true, times: 1 },
        { sshCommand: 'sleep-marker', delayMs: 2_000 },
      ],
    });
    const dropped = await shellError(commands.composeUp(target, 101, project));
    expect([dropped.kind, dropped.transient]).toEqual([NodeShellErrorKind.ConnectionLost, true]);
    const slow = await shellError(
      commands.exec(target, 101, ['echo', 'sleep-marker'], { timeoutMs: 200 }),
    );
    expect([slow.kind, slow.transient]).toEqual([NodeShellErrorKind.CommandTimeout, true]);
  });

  it('a failed write names no secret: stderr is scrubbed', async () => {
    await fx.control('POST', '/_sim/faults', {
      rules: [{ sshCommand: 'proximity-tmp', status: 1, message: `cat: failed near ${secret}` }],
    });
    const error = await shellError(
      commands.writeFile(target, 101, '/opt/proximity/.env', `X=${secret}`, [secret]),
    );
    expect(error.kind).toBe(NodeShellErrorKind.CommandFailed);
    expect(visibleText(error)).not.toContain('s3cr3t');
  });
});
