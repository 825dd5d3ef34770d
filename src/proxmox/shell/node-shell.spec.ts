import { Test } from '@nestjs/testing';
import { checkExit, NodeShell, ShellCommand, ShellResult, ShellTarget } from './node-shell';
import { NodeShellError, NodeShellErrorKind } from './shell-errors';
import { ShellModule } from './shell.module';
import { Ssh2NodeShell } from './ssh2-node-shell';

const target: ShellTarget = {
  host: '10.0.0.2',
  port: 22,
  username: 'root',
  auth: { password: 'root-pw' },
  hostKey: { fingerprint: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s' },
  node: 'pve2',
};

/** A double needs only `run`: sessions and runChecked come from the port. */
class FakeShell extends NodeShell {
  readonly seen: ShellCommand[] = [];
  constructor(private readonly result: ShellResult) {
    super();
  }
  run(_target: ShellTarget, command: ShellCommand): Promise<ShellResult> {
    this.seen.push(command);
    return Promise.resolve(this.result);
  }
}

describe('NodeShell (the port)', () => {
  it('is bound to the ssh2 adapter by ShellModule', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ShellModule] }).compile();
    expect(moduleRef.get(NodeShell)).toBeInstanceOf(Ssh2NodeShell);
    await moduleRef.close();
  });

  it('gives a double sessions and runChecked for free', async () => {
    const fake = new FakeShell({ exitCode: 0, stdout: 'ok', stderr: '', truncated: false });
    const out = await fake.withSession(target, async (session) => {
      await session.runChecked({ argv: ['a'], timeoutMs: 1 });
      return (await session.run({ argv: ['b'], timeoutMs: 1 })).stdout;
    });
    expect(out).toBe('ok');
    expect(fake.seen.map((command) => command.argv)).toEqual([['a'], ['b']]);
  });

  it('checkExit keeps the last stderr lines, scrubbed of the command secrets and the login password', () => {
    const stderr = ['one', 'two', 'three', 'four', 'five token=T0P', 'six root-pw', ''].join('\n');
    let caught: unknown;
    try {
      checkExit({ exitCode: 2, stdout: '', stderr, truncated: false }, target, {
        argv: ['x'],
        timeoutMs: 1,
        secrets: ['T0P'],
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NodeShellError);
    const error = caught as NodeShellError;
    expect(error.kind).toBe(NodeShellErrorKind.CommandFailed);
    expect(error.message).toBe('Command on pve2 (10.0.0.2:22) exited with status 2');
    expect(error.details).toEqual({
      endpoint: '10.0.0.2:22',
      node: 'pve2',
      exitCode: 2,
      stderrTail: 'two\nthree\nfour\nfive token=********\nsix ********',
    });
  });

  it('checkExit passes a zero exit through', () => {
    const ok = { exitCode: 0, stdout: 'x', stderr: 'warn', truncated: false };
    expect(checkExit(ok, target, { argv: ['x'], timeoutMs: 1 })).toBe(ok);
  });
});
