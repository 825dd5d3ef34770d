import { isNodeName } from '../node-name';
import { ShellCommand, ShellTarget } from './node-shell';
import { NodeShellError, NodeShellErrorKind } from './shell-errors';
import { quoteArgv } from './shell-quote';

/** Node's setTimeout limit. */
const MAX_TIMEOUT_MS = 2_147_483_647;

function invalid(message: string): NodeShellError {
  return new NodeShellError(NodeShellErrorKind.InvalidInput, message);
}

/**
 * The line sent over SSH. For a hop the inner line is quoted once more as a
 * single argument of `ssh`: the entry node's shell unquotes the outer level,
 * ssh hands the inner line to the other node's shell, which unquotes it to
 * the original argv. `--` ends ssh's options, so the node name (validated
 * anyway) cannot be read as one.
 */
export function buildCommandLine(target: ShellTarget, argv: readonly string[]): string {
  const line = quoteArgv(argv);
  if (target.via !== 'hop') return line;
  if (!isNodeName(target.node)) throw invalid('The node name is not a valid host name');
  return quoteArgv(['ssh', '-o', 'BatchMode=yes', '--', target.node, line]);
}

/** Refuses a command before anything is sent; returns its command line. */
export function prepareCommand(target: ShellTarget, command: ShellCommand): string {
  const { timeoutMs, maxOutputBytes } = command;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw invalid('The command timeout must be a positive number of milliseconds');
  }
  if (maxOutputBytes !== undefined && (!Number.isInteger(maxOutputBytes) || maxOutputBytes < 0)) {
    throw invalid('The output limit must be a non-negative number of bytes');
  }
  return buildCommandLine(target, command.argv);
}
