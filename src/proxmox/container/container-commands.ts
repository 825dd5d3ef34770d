import { Injectable } from '@nestjs/common';
import { posix } from 'node:path';
import { isVmid } from '../gateway/vmid';
import {
  NodeShell,
  type ShellCommand,
  type ShellResult,
  type ShellTarget,
} from '../shell/node-shell';
import { NodeShellError, NodeShellErrorKind } from '../shell/shell-errors';
import { quoteArgv } from '../shell/shell-quote';
import { parseComposePs, type ComposeServiceState } from './compose-ps';

/** Budgets per command: an apt install of Docker is slow, a status read is not. */
export const COMMAND_TIMEOUTS = {
  probe: 30_000,
  installDocker: 15 * 60_000,
  writeFile: 60_000,
  composeUp: 15 * 60_000,
  composePs: 60_000,
} as const;

// Docker's convenience script, after the two packages it needs to be fetched.
const INSTALL_DOCKER =
  'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ca-certificates curl' +
  ' && curl -fsSL https://get.docker.com | sh';

/** Absolute paths of plain characters only: they are written into an `sh -c` script (quoted). */
const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;
/** Compose project names: lower-case letters, digits, `-` and `_`, starting with a letter or digit. */
const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

export interface ComposeProject {
  /** Directory holding `compose.yaml` and `.env`. */
  directory: string;
  name: string;
}

function invalid(message: string): NodeShellError {
  return new NodeShellError(NodeShellErrorKind.InvalidInput, message);
}

function checkPath(path: string): string {
  if (!SAFE_PATH.test(path) || path.split('/').includes('..')) {
    throw invalid('The file path is not a plain absolute path');
  }
  return path;
}

type ExecOptions = Omit<ShellCommand, 'argv'>;

/** `pct exec` runs argv in the container with no shell in between (lxc-attach). */
function pctExec(vmid: number, argv: readonly string[]): string[] {
  if (!isVmid(vmid)) throw invalid('The VMID is not valid');
  return ['pct', 'exec', String(vmid), '--', ...argv];
}

function composeArgs(project: ComposeProject): string[] {
  const directory = checkPath(project.directory);
  if (!PROJECT_NAME.test(project.name)) throw invalid('The compose project name is not valid');
  return [
    'docker',
    'compose',
    '--project-directory',
    directory,
    '-f',
    posix.join(directory, 'compose.yaml'),
    '-p',
    project.name,
  ];
}

/**
 * Commands inside a container, run as `pct exec <vmid> -- <argv>` on the node
 * that holds it (the caller's ShellTarget). Every command has a timeout and
 * its connection is closed when it settles (NodeShell's contract). File
 * contents go over stdin, never on a command line: the files carry secrets.
 */
@Injectable()
export class ContainerCommands {
  constructor(private readonly shell: NodeShell) {}

  /** One command; a non-zero exit is a result, as NodeShell.run has it. */
  async exec(
    target: ShellTarget,
    vmid: number,
    argv: readonly string[],
    options: ExecOptions,
  ): Promise<ShellResult> {
    return await this.shell.run(target, { argv: pctExec(vmid, argv), ...options });
  }

  /** Like `exec`, a non-zero exit throws CommandFailed with the scrubbed end of stderr. */
  async execChecked(
    target: ShellTarget,
    vmid: number,
    argv: readonly string[],
    options: ExecOptions,
  ): Promise<ShellResult> {
    return await this.shell.runChecked(target, { argv: pctExec(vmid, argv), ...options });
  }

  /** True when Docker with its compose plugin answers. */
  async hasDocker(target: ShellTarget, vmid: number): Promise<boolean> {
    const result = await this.exec(target, vmid, ['docker', 'compose', 'version'], {
      timeoutMs: COMMAND_TIMEOUTS.probe,
    });
    return result.exitCode === 0;
  }

  /** Installs Docker unless it is already there; false when there was nothing to do. */
  async installDocker(target: ShellTarget, vmid: number): Promise<boolean> {
    if (await this.hasDocker(target, vmid)) return false;
    await this.execChecked(target, vmid, ['sh', '-c', INSTALL_DOCKER], {
      timeoutMs: COMMAND_TIMEOUTS.installDocker,
    });
    if (!(await this.hasDocker(target, vmid))) {
      throw new NodeShellError(
        NodeShellErrorKind.CommandFailed,
        'Docker does not answer after its installation',
      );
    }
    return true;
  }

  /**
   * Writes `content` to `path` (mode 0600, directory created): piped over
   * stdin into a temporary file made private before it is filled, then
   * renamed, so a retry or a reader never sees half a file.
   */
  async writeFile(
    target: ShellTarget,
    vmid: number,
    path: string,
    content: string,
    secrets: readonly string[] = [],
  ): Promise<void> {
    const file = checkPath(path);
    const temporary = `${file}.proximity-tmp`;
    const [dir, tmp, dest] = [posix.dirname(file), temporary, file].map((p) => quoteArgv([p]));
    const script =
      `mkdir -p ${dir} && rm -f ${tmp} && touch ${tmp} && chmod 600 ${tmp}` +
      ` && cat > ${tmp} && mv ${tmp} ${dest}`;
    await this.execChecked(target, vmid, ['sh', '-c', script], {
      timeoutMs: COMMAND_TIMEOUTS.writeFile,
      stdin: content,
      secrets,
    });
  }

  async composeUp(
    target: ShellTarget,
    vmid: number,
    project: ComposeProject,
    secrets: readonly string[] = [],
  ): Promise<void> {
    await this.execChecked(target, vmid, [...composeArgs(project), 'up', '-d'], {
      timeoutMs: COMMAND_TIMEOUTS.composeUp,
      secrets,
    });
  }

  /** Every container of the project, stopped ones included, with its state. */
  async composeServices(
    target: ShellTarget,
    vmid: number,
    project: ComposeProject,
  ): Promise<ComposeServiceState[]> {
    const result = await this.execChecked(
      target,
      vmid,
      [...composeArgs(project), 'ps', '-a', '--format', 'json'],
      { timeoutMs: COMMAND_TIMEOUTS.composePs },
    );
    return parseComposePs(result.stdout);
  }
}
