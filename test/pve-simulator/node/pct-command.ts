import { posix } from 'node:path';
import { configPropertySchema } from '../state/container-config';
import { validateValue } from '../api/schema/parameter-schema';
import { configPath, withConfigLock } from '../pve/container-access';
import { updateContainerConfig } from '../pve/config-update';
import { configWithPending } from '../pve/pending-changes';
import { PveError } from '../pve/pve-error';
import type { Command, CommandContext, CommandSystem } from '../shell/shell-interpreter';
import { Simulation } from '../simulation';
import { Container } from '../state/container';
import { FsError } from '../state/virtual-fs';

const UNSUPPORTED = new Set([
  'create',
  'start',
  'stop',
  'shutdown',
  'reboot',
  'destroy',
  'restore',
  'snapshot',
  'rollback',
  'clone',
  'migrate',
  'enter',
  'console',
  'mount',
  'unmount',
  'resize',
  'move-volume',
  'template',
  'fsck',
  'fstrim',
  'rescan',
  'cpusets',
  'pending',
  'df',
  'delsnapshot',
  'listsnapshot',
  'unlock',
  'suspend',
  'resume',
  'remote-migrate',
]);
const KNOWN = new Set([
  ...UNSUPPORTED,
  'exec',
  'push',
  'pull',
  'status',
  'list',
  'config',
  'set',
  'help',
]);

/** pct dies print the message and exit 255, like every PVE CLI tool. */
class PctDie extends Error {}

function die(message: string): never {
  throw new PctDie(message);
}

function parseVmid(text: string | undefined): number {
  if (text === undefined) die('400 not enough arguments');
  if (!/^[+-]?\d+$/.test(text))
    die(`400 Parameter verification failed.\nvmid: type check ('integer') failed - got '${text}'`);
  if (!/^[1-9][0-9]{2,8}$/.test(text))
    die(
      '400 Parameter verification failed.\nvmid: invalid format - value does not look like a valid VM ID',
    );
  return Number(text);
}

/** `--name value` / `--name=value` options and positional arguments, stopping at `--`. */
function parseArgs(
  args: string[],
  valued: readonly string[],
  flags: readonly string[] = [],
): { options: Map<string, string>; positional: string[]; rest: string[] | null } {
  const options = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') return { options, positional, rest: args.slice(i + 1) };
    if (/^--?[a-z]/i.test(arg)) {
      const [rawName, inline] = arg.replace(/^--?/, '').split(/=(.*)/s, 2);
      if (flags.includes(rawName)) {
        options.set(rawName, inline ?? '1');
        continue;
      }
      if (!valued.includes(rawName)) die(`Unknown option: ${rawName}\n400 unable to parse option`);
      const value = inline ?? args[++i];
      if (value === undefined)
        die(`Option ${rawName} requires an argument\n400 unable to parse option`);
      options.set(rawName, value);
      continue;
    }
    positional.push(arg);
  }
  return { options, positional, rest: null };
}

function fileMode(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const octal = text.startsWith('0') ? text : `0${text}`;
  if (!/^0[0-7]+$/.test(octal) && !/^0x[0-9a-f]+$/i.test(text)) die(`invalid mode: '${text}'`);
  return /^0x/i.test(text) ? parseInt(text, 16) : parseInt(octal, 8);
}

function checkOwner(user: string | undefined, group: string | undefined): void {
  if (user !== undefined && !/^\d+$/.test(user) && user !== 'root')
    die(`failed to get uid for: ${user}`);
  if (group !== undefined && !/^\d+$/.test(group) && group !== 'root')
    die(`failed to get gid for: ${group}`);
}

/**
 * `pct` on a node: exec, push, pull, status, list, config and set act on the
 * containers whose config lives on this node, like the real tool.
 */
export function pctCommand(
  sim: Simulation,
  nodeName: string,
  containerSystem: (container: Container) => CommandSystem,
): Command {
  const load = (vmid: number): Container => {
    const container = sim.cluster.containerOn(nodeName, vmid);
    if (!container) die(`Configuration file '${configPath(nodeName, vmid)}' does not exist`);
    return container;
  };

  const run = async (ctx: CommandContext): Promise<number> => {
    const [subcommand, ...args] = ctx.argv.slice(1);
    if (subcommand === undefined || subcommand === 'help') {
      ctx.stdout.write(
        'USAGE: pct <COMMAND> [ARGS] [OPTIONS]\n\n       pct exec <vmid> [<extra-args>] [OPTIONS]\n       pct push <vmid> <file> <destination> [OPTIONS]\n       pct pull <vmid> <path> <destination> [OPTIONS]\n       pct status <vmid>\n       pct list\n       pct config <vmid>\n       pct set <vmid> [OPTIONS]\n',
      );
      return subcommand === undefined ? 255 : 0;
    }
    if (!KNOWN.has(subcommand)) die(`ERROR: unknown command 'pct ${subcommand}'`);
    if (UNSUPPORTED.has(subcommand))
      die(`pct ${subcommand}: not supported by the Proxmox VE simulator (use the API)`);
    switch (subcommand) {
      case 'exec': {
        const { positional, rest } = parseArgs(args, ['keep-env']);
        const vmid = parseVmid(positional[0]);
        const argv = rest ?? positional.slice(1);
        if (rest !== null && positional.length > 1) die('400 too many arguments');
        const container = load(vmid);
        if (container.status !== 'running') die(`container '${vmid}' not running!`);
        if (argv.length === 0) die('missing command');
        return await containerSystem(container).exec(argv, ctx, { ...ctx.env }, '/root');
      }
      case 'push':
      case 'pull': {
        const { options, positional } = parseArgs(args, ['perms', 'user', 'group']);
        const vmid = parseVmid(positional[0]);
        const [, source, destination] = positional;
        if (source === undefined || destination === undefined) die('400 not enough arguments');
        if (positional.length > 3) die('400 too many arguments');
        const existing = sim.cluster.containerOn(nodeName, vmid);
        if (existing?.status !== 'running')
          die(
            subcommand === 'push'
              ? 'can only push files to a running CT'
              : 'can only pull files from a running CT',
          );
        const container = load(vmid);
        const mode = fileMode(options.get('perms'));
        checkOwner(options.get('user'), options.get('group'));
        const [fromFs, toFs] =
          subcommand === 'push' ? [ctx.fs, container.guest.fs] : [container.guest.fs, ctx.fs];
        const from = posix.resolve(subcommand === 'push' ? ctx.cwd : '/', source);
        const to = posix.resolve(subcommand === 'push' ? '/' : ctx.cwd, destination);
        let data: Buffer;
        try {
          data = fromFs.readFile(from);
        } catch {
          die(`failed to open ${source} for reading`);
        }
        try {
          toFs.writeFile(to, data, { mode: mode ?? 0o644 });
        } catch (error) {
          die(
            `failed to create file: ${destination}: ${error instanceof FsError ? error.message : String(error)}`,
          );
        }
        if (subcommand === 'push') sim.changed();
        return 0;
      }
      case 'status': {
        const container = load(parseVmid(args[0]));
        ctx.stdout.write(`status: ${container.status}\n`);
        return 0;
      }
      case 'list': {
        const rows = [...sim.cluster.containers.values()]
          .filter((c) => c.node === nodeName)
          .sort((a, b) => a.vmid - b.vmid);
        ctx.stdout.write(`${'VMID'.padEnd(10)} ${'Status'.padEnd(10)} ${'Lock'.padEnd(12)} Name\n`);
        for (const c of rows)
          ctx.stdout.write(
            `${String(c.vmid).padEnd(10)} ${c.status.padEnd(10)} ${(c.lock ?? '').padEnd(12)} ${c.hostname()}\n`,
          );
        return 0;
      }
      case 'config': {
        const { options, positional } = parseArgs(args, ['snapshot'], ['current']);
        const container = load(parseVmid(positional[0]));
        // Like GET …/config: pending values shown unless --current.
        const config: Record<string, string> =
          options.get('current') === '1' ? { ...container.config } : configWithPending(container);
        if (container.lock) config.lock = container.lock;
        if (container.parent) config.parent = container.parent;
        for (const key of Object.keys(config).sort()) ctx.stdout.write(`${key}: ${config[key]}\n`);
        return 0;
      }
      case 'set': {
        const options = new Map<string, string>();
        let vmidText: string | undefined;
        for (let i = 0; i < args.length; i++) {
          const arg = args[i];
          if (!arg.startsWith('-')) {
            if (vmidText !== undefined) die('400 too many arguments');
            vmidText = arg;
            continue;
          }
          const [name, inline] = arg.replace(/^--?/, '').split(/=(.*)/s, 2);
          const value = inline ?? args[++i];
          if (value === undefined)
            die(`Option ${name} requires an argument\n400 unable to parse option`);
          options.set(name, value);
        }
        const vmid = parseVmid(vmidText);
        const errors: string[] = [];
        const values: Record<string, string> = {};
        for (const [name, value] of options) {
          if (name === 'delete' || name === 'revert' || name === 'digest') continue;
          const schema = configPropertySchema(name);
          if (!schema) {
            errors.push(
              `${name}: property is not defined in schema and the schema does not allow additional properties`,
            );
            continue;
          }
          const problem = validateValue(name, value, schema);
          if (problem) errors.push(`${name}: ${problem.replace(/\n$/, '')}`);
          values[name] = value;
        }
        if (errors.length > 0) die(`400 Parameter verification failed.\n${errors.join('\n')}`);
        await withConfigLock(
          sim,
          nodeName,
          vmid,
          () => {
            updateContainerConfig(
              load(vmid),
              {
                values,
                delete: options.get('delete'),
                revert: options.get('revert'),
                digest: options.get('digest'),
              },
              { userid: 'root@pam', isToken: false },
              () => sim.cluster.randomMac(),
            );
            sim.changed();
          },
          { progress: (line) => ctx.stderr.write(`${line}\n`) },
        );
        return 0;
      }
      default:
        return die(`ERROR: unknown command 'pct ${subcommand}'`);
    }
  };

  return async (ctx) => {
    try {
      return await run(ctx);
    } catch (error) {
      if (error instanceof PctDie || error instanceof PveError) {
        const message =
          error instanceof PveError && error.errors
            ? `${error.status} ${error.message}\n${Object.entries(error.errors)
                .map(([key, value]) => `${key}: ${value}`)
                .join('\n')}`
            : error.message;
        ctx.stderr.write(`${message.replace(/\n$/, '')}\n`);
        return 255;
      }
      throw error;
    }
  };
}
