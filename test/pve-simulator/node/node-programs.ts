import type { Command, CommandSystem } from '../shell/shell-interpreter';
import { PVE_VERSION } from '../api/routes/cluster-routes';
import { Simulation } from '../simulation';

const SSH_VALUE_OPTIONS = new Set([
  '-o',
  '-p',
  '-i',
  '-l',
  '-F',
  '-J',
  '-b',
  '-c',
  '-D',
  '-E',
  '-L',
  '-R',
  '-m',
  '-S',
  '-W',
  '-w',
  '-e',
  '-O',
  '-Q',
  '-B',
  '-I',
]);

/** Node-level programs besides pct: nft, sysctl, ssh to another cluster node, pveversion. */
export function nodePrograms(
  sim: Simulation,
  nodeName: string,
  otherNode: (name: string) => CommandSystem,
): Map<string, Command> {
  const node = sim.cluster.node(nodeName);
  if (!node) throw new Error(`unknown node ${nodeName}`);
  const programs = new Map<string, Command>();

  programs.set('nft', async (ctx) => {
    const result = node.nft.execute(ctx.argv.slice(1));
    if (result.stdout) ctx.stdout.write(result.stdout);
    if (result.stderr) ctx.stderr.write(result.stderr);
    if (result.changed) {
      sim.changed();
      await sim.refreshNetwork();
    }
    return result.status;
  });

  programs.set('sysctl', (ctx) => {
    let status = 0;
    const args = ctx.argv.slice(1);
    const quiet = args.some((arg) => /^-[a-zA-Z]*q/.test(arg));
    for (const arg of args) {
      if (arg.startsWith('-')) {
        if (/^-[a-zA-Z]*p/.test(arg) || arg === '--system') return 0;
        continue;
      }
      const [key, value] = arg.split(/=(.*)/s, 2);
      const known = node.sysctl.has(key) || /^net\.ipv[46]\./.test(key);
      if (!known) {
        ctx.stderr.write(
          `sysctl: cannot stat /proc/sys/${key.replace(/\./g, '/')}: No such file or directory\n`,
        );
        status = 255;
        continue;
      }
      if (value !== undefined) {
        node.sysctl.set(key, value);
        if (!quiet) ctx.stdout.write(`${key} = ${value}\n`);
      } else {
        ctx.stdout.write(`${key} = ${node.sysctl.get(key) ?? '0'}\n`);
      }
    }
    return status;
  });

  programs.set('pveversion', (ctx) => {
    ctx.stdout.write(
      `pve-manager/${PVE_VERSION.version}/${PVE_VERSION.repoid} (running kernel: 6.8.12-4-pve)\n`,
    );
    return 0;
  });

  /** Cluster nodes trust each other's root key, so `ssh <node> <command>` hops like on a real cluster. */
  programs.set('ssh', async (ctx) => {
    const args = ctx.argv.slice(1);
    let i = 0;
    for (; i < args.length && args[i].startsWith('-'); i++) {
      if (SSH_VALUE_OPTIONS.has(args[i])) i++;
    }
    const destination = args[i];
    if (destination === undefined) {
      ctx.stderr.write(
        'usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] destination [command [argument ...]]\n',
      );
      return 255;
    }
    const host = destination.includes('@')
      ? destination.slice(destination.indexOf('@') + 1)
      : destination;
    const target = host === 'localhost' || host === '127.0.0.1' ? nodeName : host;
    if (!sim.cluster.node(target)) {
      ctx.stderr.write(`ssh: Could not resolve hostname ${host}: Name or service not known\n`);
      return 255;
    }
    const command = args.slice(i + 1).join(' ');
    if (command === '') {
      ctx.stderr.write('interactive ssh sessions are not supported by the Proxmox VE simulator\n');
      return 255;
    }
    return otherNode(target).runScript(command, ctx, { cwd: '/root' });
  });

  return programs;
}
