import { NodeShellError, NodeShellErrorKind } from './shell-errors';

/**
 * POSIX single quotes keep every byte literal except `'` itself, which is
 * closed, escaped and reopened: `it's` → `'it'\''s'`.
 */
function quoteArg(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * The only way a command line is built from arguments: every element is
 * quoted, none is ever interpreted by the remote shell. Each shell level
 * quotes once (a hop to another node quotes the inner line as one argument).
 * NUL cannot be carried by any shell argument, so it is refused rather than
 * silently cutting the argument short.
 */
export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) {
    throw new NodeShellError(NodeShellErrorKind.InvalidInput, 'The command has no arguments');
  }
  for (const arg of argv) {
    if (typeof arg !== 'string') {
      throw new NodeShellError(
        NodeShellErrorKind.InvalidInput,
        'Command arguments must be strings',
      );
    }
    if (arg.includes('\0')) {
      throw new NodeShellError(
        NodeShellErrorKind.InvalidInput,
        'A command argument contains a NUL byte',
      );
    }
  }
  return argv.map(quoteArg).join(' ');
}
