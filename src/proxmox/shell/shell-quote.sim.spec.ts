import fc from 'fast-check';
import { SimulatorFixture } from '../../../test/pve-simulator/testing/simulator-fixture';
import { ShellSession, ShellTarget } from './node-shell';
import { argvArbitrary } from './testing/argv-arbitrary';
import { simTarget, TrackingShell } from './testing/shell-fixture';

/**
 * The check of the issue: any argv, quoted by quoteArgv and sent by the real
 * adapter, reaches the simulator's interpreter unchanged (printf echoes each
 * argument followed by NUL, which no argument can contain).
 */
describe('argv reaches the Proxmox VE simulator unchanged', () => {
  let fx: SimulatorFixture;
  let target: ShellTarget;
  const shell = new TrackingShell();

  beforeAll(async () => {
    fx = await SimulatorFixture.start();
    target = simTarget(fx.sim);
    await fx.createContainer(101, { start: true });
    await fx.createContainer(201, { start: true }, 'pve2');
  });

  afterAll(async () => {
    await fx?.close();
  });

  afterEach(() => {
    expect(shell.open).toBe(0);
  });

  async function roundTrip(via: ShellTarget, prefix: string[], runs: number): Promise<void> {
    await shell.withSession(via, (session: ShellSession) =>
      fc.assert(
        fc.asyncProperty(argvArbitrary, async (args) => {
          const result = await session.run({
            argv: [...prefix, 'printf', '%s\\0', ...args],
            timeoutMs: 5_000,
          });
          expect(result.stderr).toBe('');
          expect(result.exitCode).toBe(0);
          expect(result.stdout).toBe(args.map((arg) => `${arg}\0`).join(''));
        }),
        { numRuns: runs },
      ),
    );
  }

  it('on the node', async () => {
    await roundTrip(target, [], 100);
  });

  it('inside a container (pct exec)', async () => {
    await roundTrip(target, ['pct', 'exec', '101', '--'], 100);
  });

  it('inside a container on another node, through the hop (two shell levels)', async () => {
    await roundTrip({ ...target, via: 'hop', node: 'pve2' }, ['pct', 'exec', '201', '--'], 100);
  });
});
