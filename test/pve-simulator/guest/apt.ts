import { posix } from 'node:path';
import type { Command, CommandContext } from '../shell/shell-interpreter';
import { GuestRuntime } from './guest-runtime';

interface PackageInfo {
  version: string;
  /** Debian's archive is known after `apt-get update`; Docker's once its repository is configured. */
  repository: 'debian' | 'docker';
  depends?: string[];
}

/** The packages a deployment needs, with the versions Debian 12 and Docker's repository ship. */
export const PACKAGE_CATALOG: Readonly<Record<string, PackageInfo>> = {
  'ca-certificates': { version: '20230311', repository: 'debian' },
  curl: { version: '7.88.1-10+deb12u8', repository: 'debian' },
  gnupg: { version: '2.2.40-1.1', repository: 'debian' },
  'apt-transport-https': { version: '2.6.1', repository: 'debian' },
  'lsb-release': { version: '12.0-1', repository: 'debian' },
  'docker.io': {
    version: '20.10.24+dfsg1-1+deb12u1',
    repository: 'debian',
    depends: ['containerd', 'runc'],
  },
  'docker-compose': { version: '1.29.2-3', repository: 'debian', depends: ['docker.io'] },
  containerd: { version: '1.6.20~ds1-1+b1', repository: 'debian' },
  runc: { version: '1.1.5+ds1-1+deb12u1', repository: 'debian' },
  'docker-ce': {
    version: '5:27.3.1-1~debian.12~bookworm',
    repository: 'docker',
    depends: ['containerd.io', 'docker-ce-cli'],
  },
  'docker-ce-cli': { version: '5:27.3.1-1~debian.12~bookworm', repository: 'docker' },
  'docker-ce-rootless-extras': { version: '5:27.3.1-1~debian.12~bookworm', repository: 'docker' },
  'containerd.io': { version: '1.7.22-1', repository: 'docker' },
  'docker-buildx-plugin': { version: '0.17.1-1~debian.12~bookworm', repository: 'docker' },
  'docker-compose-plugin': { version: '2.29.7-1~debian.12~bookworm', repository: 'docker' },
};

const KNOWN_OPTIONS = new Set([
  '-y',
  '--yes',
  '--assume-yes',
  '-q',
  '-qq',
  '--quiet',
  '--no-install-recommends',
  '--install-recommends',
  '--no-install-suggests',
  '--reinstall',
  '-f',
  '--fix-broken',
  '--fix-missing',
  '--allow-downgrades',
  '--allow-change-held-packages',
  '--allow-unauthenticated',
  '--purge',
]);

const DOCKER_REPO = 'https://download.docker.com/linux/debian';

/** Sources that mention Docker's repository, with the keyring each one names. */
function dockerSources(ctx: CommandContext): Array<{ file: string; keyring: string | null }> {
  const found: Array<{ file: string; keyring: string | null }> = [];
  const files = ['/etc/apt/sources.list'];
  if (ctx.fs.isDir('/etc/apt/sources.list.d')) {
    for (const name of ctx.fs.list('/etc/apt/sources.list.d')) {
      if (name.endsWith('.list') || name.endsWith('.sources'))
        files.push(`/etc/apt/sources.list.d/${name}`);
    }
  }
  for (const file of files) {
    if (!ctx.fs.isFile(file)) continue;
    const text = ctx.fs.readFile(file).toString();
    if (!text.includes('download.docker.com')) continue;
    const keyring =
      /signed-by=([^\s\]]+)/.exec(text)?.[1] ?? /^Signed-By:\s*(\S+)/m.exec(text)?.[1] ?? null;
    found.push({ file, keyring });
  }
  return found;
}

function resolvePackages(names: string[], installed: ReadonlySet<string>): string[] {
  const result: string[] = [];
  const visit = (name: string): void => {
    if (installed.has(name) || result.includes(name)) return;
    for (const dependency of PACKAGE_CATALOG[name]?.depends ?? []) visit(dependency);
    result.push(name);
  };
  names.forEach(visit);
  return result;
}

export function aptGet(runtime: GuestRuntime, program: 'apt-get' | 'apt'): Command {
  return async (ctx) => {
    const guest = runtime.guest;
    if (program === 'apt')
      ctx.stderr.write(
        '\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n',
      );
    const operands: string[] = [];
    let assumeYes = false;
    let quiet = 0;
    const args = ctx.argv.slice(1);
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (arg === '-o') {
        i++;
        continue;
      }
      if (arg.startsWith('-o')) continue;
      if (arg.startsWith('-')) {
        if (!KNOWN_OPTIONS.has(arg) && !/^-[yqf]+$/.test(arg)) {
          ctx.stderr.write(
            `E: Command line option ${arg} is not understood in combination with the other options\n`,
          );
          return 100;
        }
        if (arg === '-y' || arg === '--yes' || arg === '--assume-yes' || /^-[yqf]*y/.test(arg))
          assumeYes = true;
        if (arg === '-qq') quiet = 2;
        else if (arg === '-q' || arg === '--quiet') quiet = Math.max(quiet, 1);
        continue;
      }
      operands.push(arg);
    }
    const [operation, ...packageArgs] = operands;
    const say = (line: string, level = 1): void => {
      if (quiet < level) ctx.stdout.write(`${line}\n`);
    };
    const readLists = (): void => {
      say('Reading package lists...');
      say('Building dependency tree...');
      say('Reading state information...');
    };

    switch (operation) {
      case undefined:
        ctx.stdout.write(`${program} 2.6.1 (amd64)\nUsage: ${program} [options] command\n`);
        return 0;
      case 'update': {
        await runtime.installDelay();
        say('Hit:1 http://deb.debian.org/debian bookworm InRelease', 2);
        say('Hit:2 http://deb.debian.org/debian bookworm-updates InRelease', 2);
        say('Hit:3 http://security.debian.org bookworm-security InRelease', 2);
        guest.aptListsUpdated = true;
        const sources = dockerSources(ctx);
        if (sources.length > 0) {
          const trusted =
            ctx.fs.isDir('/etc/apt/trusted.gpg.d') &&
            ctx.fs.list('/etc/apt/trusted.gpg.d').length > 0;
          const keyed = sources.every((source) =>
            source.keyring === null ? trusted : ctx.fs.isFile(source.keyring),
          );
          if (!keyed) {
            guest.dockerRepoIndexed = false;
            ctx.stderr.write(
              `W: GPG error: ${DOCKER_REPO} bookworm InRelease: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 7EA0A9C3F273FCD8\n` +
                `E: The repository '${DOCKER_REPO} bookworm InRelease' is not signed.\n`,
            );
            return 100;
          }
          say(`Get:4 ${DOCKER_REPO} bookworm InRelease [43.3 kB]`, 2);
          guest.dockerRepoIndexed = true;
        } else {
          guest.dockerRepoIndexed = false;
        }
        say('Reading package lists...', 1);
        return 0;
      }
      case 'install':
      case 'reinstall': {
        const names = packageArgs.map((arg) => arg.replace(/[=/].*$/, ''));
        readLists();
        for (const name of names) {
          const info = PACKAGE_CATALOG[name];
          const known =
            info &&
            (info.repository === 'debian' ? guest.aptListsUpdated : guest.dockerRepoIndexed);
          if (!known && !guest.packages.has(name)) {
            ctx.stderr.write(`E: Unable to locate package ${name}\n`);
            return 100;
          }
        }
        const toInstall = resolvePackages(names, guest.packages);
        for (const name of names) {
          if (guest.packages.has(name))
            say(
              `${name} is already the newest version (${PACKAGE_CATALOG[name]?.version ?? 'unknown'}).`,
            );
        }
        if (toInstall.length === 0) {
          say('0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.');
          return 0;
        }
        say('The following NEW packages will be installed:');
        say(`  ${toInstall.join(' ')}`);
        say(`0 upgraded, ${toInstall.length} newly installed, 0 to remove and 0 not upgraded.`);
        if (!assumeYes) {
          ctx.stdout.write('Do you want to continue? [Y/n] ');
          const answer = (await ctx.stdin.readAll()).toString().trim();
          if (!/^[yY]/.test(answer)) {
            ctx.stdout.write('Abort.\n');
            return 1;
          }
        }
        await runtime.installDelay();
        for (const name of toInstall) {
          say(`Setting up ${name} (${PACKAGE_CATALOG[name]?.version ?? 'unknown'}) ...`);
          guest.packages.add(name);
        }
        return 0;
      }
      case 'remove':
      case 'purge': {
        readLists();
        const present = packageArgs.filter((name) => guest.packages.has(name));
        for (const name of packageArgs)
          if (!guest.packages.has(name)) say(`Package '${name}' is not installed, so not removed`);
        if (present.length > 0) {
          if (!assumeYes) {
            ctx.stdout.write('Do you want to continue? [Y/n] ');
            const answer = (await ctx.stdin.readAll()).toString().trim();
            if (!/^[yY]/.test(answer)) {
              ctx.stdout.write('Abort.\n');
              return 1;
            }
          }
          for (const name of present) {
            say(`Removing ${name} (${PACKAGE_CATALOG[name]?.version ?? 'unknown'}) ...`);
            guest.packages.delete(name);
          }
          if (
            !guest.packages.has('docker-ce') &&
            !guest.packages.has('docker.io') &&
            guest.projects.size > 0
          ) {
            guest.projects.clear();
            await runtime.applyServices();
          }
        }
        say(`0 upgraded, 0 newly installed, ${present.length} to remove and 0 not upgraded.`);
        return 0;
      }
      case 'upgrade':
      case 'dist-upgrade':
      case 'full-upgrade':
        readLists();
        say('Calculating upgrade...');
        if (guest.aptListsUpdated) await runtime.installDelay();
        say('0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.');
        return 0;
      case 'autoremove':
      case 'autopurge':
        readLists();
        say('0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.');
        return 0;
      case 'clean':
      case 'autoclean':
        return 0;
      default:
        ctx.stderr.write(`E: Invalid operation ${operation}\n`);
        return 100;
    }
  };
}

export function dpkg(runtime: GuestRuntime): Command {
  return (ctx) => {
    const [option, ...names] = ctx.argv.slice(1);
    if (option === '--print-architecture') {
      ctx.stdout.write('amd64\n');
      return 0;
    }
    if (option === '-s' || option === '--status' || option === '-l' || option === '--list') {
      let status = 0;
      for (const name of names) {
        if (!runtime.guest.packages.has(name)) {
          ctx.stderr.write(
            `dpkg-query: package '${name}' is not installed and no information is available\n`,
          );
          status = 1;
          continue;
        }
        const version = PACKAGE_CATALOG[name]?.version ?? 'unknown';
        if (option === '-s' || option === '--status')
          ctx.stdout.write(
            `Package: ${name}\nStatus: install ok installed\nVersion: ${version}\n\n`,
          );
        else ctx.stdout.write(`ii  ${name}  ${version}  amd64\n`);
      }
      return status;
    }
    ctx.stderr.write(
      `dpkg: error: unsupported option ${option ?? ''} in the Proxmox VE simulator\n`,
    );
    return 2;
  };
}

/** `gpg --dearmor`, the step Docker's documented key setup uses. */
export const gpgDearmor: Command = async (ctx) => {
  const args = ctx.argv.slice(1);
  if (!args.includes('--dearmor')) {
    ctx.stderr.write('gpg: only --dearmor is supported by the Proxmox VE simulator\n');
    return 2;
  }
  let output: string | undefined;
  let input: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-o' || args[i] === '--output') output = args[++i];
    else if (!args[i].startsWith('-')) input = args[i];
  }
  let armored: Buffer;
  try {
    armored =
      input === undefined || input === '-'
        ? await ctx.stdin.readAll()
        : ctx.fs.readFile(posix.resolve(ctx.cwd, input));
  } catch {
    ctx.stderr.write(`gpg: can't open '${input ?? ''}': No such file or directory\n`);
    return 2;
  }
  const binary = Buffer.concat([Buffer.from([0x99, 0x02, 0x0d]), armored]);
  if (output === undefined || output === '-') ctx.stdout.write(binary);
  else {
    const path = posix.resolve(ctx.cwd, output);
    if (ctx.fs.isFile(path) && !args.includes('--yes')) {
      ctx.stderr.write(
        `gpg: cannot open '/dev/tty': No such device or address\nFile '${output}' exists. Overwrite? (y/N) \n`,
      );
      return 2;
    }
    ctx.fs.writeFile(path, binary);
  }
  return 0;
};
