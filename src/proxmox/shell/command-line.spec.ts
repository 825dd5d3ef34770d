import { buildCommandLine, prepareCommand } from './command-line';
import { ShellTarget } from './node-shell';
import { NodeShellError, NodeShellErrorKind } from './shell-errors';

const direct: ShellTarget = {
  host: '10.0.0.2',
  port: 22,
  username: 'root',
  auth: { password: 'pw' },
  hostKey: { insecure: true },
  node: 'pve2',
};

function kindOf(run: () => unknown): NodeShellErrorKind | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof NodeShellError) return error.kind;
    throw error;
  }
  return undefined;
}

describe('buildCommandLine', () => {
  it('quotes argv once for a direct target, whatever `node` says', () => {
    expect(buildCommandLine(direct, ['echo', "it's"])).toBe(`'echo' 'it'\\''s'`);
  });

  it('quotes the inner line as one argument of ssh for a hop', () => {
    const hop: ShellTarget = { ...direct, via: 'hop', node: 'pve2' };
    expect(buildCommandLine(hop, ['echo', 'a b'])).toBe(
      `'ssh' '-o' 'BatchMode=yes' '--' 'pve2' ''\\''echo'\\'' '\\''a b'\\'''`,
    );
  });

  it('refuses a hop to a node name that is not a host name', () => {
    for (const node of ['', '-oProxyCommand=x', 'pve2 x', 'pve2;id', 'pve-']) {
      expect(kindOf(() => buildCommandLine({ ...direct, via: 'hop', node }, ['true']))).toBe(
        NodeShellErrorKind.InvalidInput,
      );
    }
  });
});

describe('prepareCommand', () => {
  it('accepts a sane command and refuses bad timeouts and limits', () => {
    expect(prepareCommand(direct, { argv: ['true'], timeoutMs: 1 })).toBe(`'true'`);
    for (const timeoutMs of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      expect(kindOf(() => prepareCommand(direct, { argv: ['true'], timeoutMs }))).toBe(
        NodeShellErrorKind.InvalidInput,
      );
    }
    expect(
      kindOf(() => prepareCommand(direct, { argv: ['true'], timeoutMs: 1, maxOutputBytes: 0.5 })),
    ).toBe(NodeShellErrorKind.InvalidInput);
  });
});
