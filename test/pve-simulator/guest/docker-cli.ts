import { posix } from 'node:path';
import type { Command, CommandContext } from '../shell/shell-interpreter';
import {
  ComposeError,
  ComposeModel,
  ComposeServiceSpec,
  parseComposeFile,
  parseEnvFile,
} from './compose-file';
import { GuestRuntime } from './guest-runtime';
import { BoundPort, ComposeProject, ComposeServiceState } from './guest-system';

const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
const EPHEMERAL_PORT_START = 32768;
const DAEMON_DOWN =
  'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';

function dockerVersion(runtime: GuestRuntime): string {
  return runtime.guest.packages.has('docker-ce-cli')
    ? 'Docker version 27.3.1, build ce12230'
    : 'Docker version 20.10.24+dfsg1, build 297e128';
}

function composeVersion(runtime: GuestRuntime, legacy: boolean): string {
  return legacy || !runtime.guest.packages.has('docker-compose-plugin')
    ? 'docker-compose version 1.29.2, build unknown'
    : 'Docker Compose version v2.29.7';
}

function randomHex(runtime: GuestRuntime, bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i++) out += runtime.random.hexByte().toLowerCase();
  return out;
}

function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[^a-z0-9]+/, '');
}

function formatPorts(ports: BoundPort[]): string {
  return ports
    .map((p) => `${p.hostIp ?? '0.0.0.0'}:${p.hostPort}->${p.target}/${p.protocol}`)
    .join(', ');
}

function humanDuration(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return minutes === 1 ? 'About a minute' : `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  return hours === 1 ? 'About an hour' : `${hours} hours`;
}

interface GlobalOptions {
  files: string[];
  envFile: string | null;
  projectName: string | null;
  projectDirectory: string | null;
}

class UsageError extends Error {}

/** Splits compose's global options from the subcommand and its arguments. */
function parseGlobalOptions(args: string[]): { options: GlobalOptions; rest: string[] } {
  const options: GlobalOptions = {
    files: [],
    envFile: null,
    projectName: null,
    projectDirectory: null,
  };
  let i = 0;
  const value = (name: string): string => {
    const arg = args[i];
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) return arg.slice(eq + 1);
    if (!arg.startsWith('--') && arg.length > 2) return arg.slice(2);
    const next = args[++i];
    if (next === undefined) throw new UsageError(`flag needs an argument: ${name}`);
    return next;
  };
  for (; i < args.length; i++) {
    const arg = args[i];
    const name = arg.split('=')[0];
    if (name === '-f' || name === '--file' || (arg.startsWith('-f') && !arg.startsWith('--')))
      options.files.push(value('-f'));
    else if (name === '--env-file') options.envFile = value('--env-file');
    else if (
      name === '-p' ||
      name === '--project-name' ||
      (arg.startsWith('-p') && !arg.startsWith('--'))
    )
      options.projectName = value('-p');
    else if (name === '--project-directory')
      options.projectDirectory = value('--project-directory');
    else if (
      name === '--ansi' ||
      name === '--progress' ||
      name === '--profile' ||
      name === '--parallel'
    )
      value(name);
    else if (name === '--compatibility' || name === '--dry-run') continue;
    else if (arg.startsWith('-')) throw new UsageError(`unknown flag: ${arg}`);
    else break;
  }
  return { options, rest: args.slice(i) };
}

/** Splits a subcommand's arguments into known flags (with values) and services. */
function parseSubcommandArgs(
  args: string[],
  flags: readonly string[],
  valued: readonly string[],
): { set: Map<string, string>; services: string[] } {
  const set = new Map<string, string>();
  const services: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('-')) {
      services.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (valued.includes(name)) {
      const v = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (v === undefined) throw new UsageError(`flag needs an argument: ${name}`);
      set.set(name, v);
    } else if (flags.includes(name)) {
      set.set(name, '');
    } else if (
      /^-[a-zA-Z]{2,}$/.test(arg) &&
      [...arg.slice(1)].every((c) => flags.includes(`-${c}`))
    ) {
      for (const c of arg.slice(1)) set.set(`-${c}`, '');
    } else {
      throw new UsageError(`unknown flag: ${arg}`);
    }
  }
  return { set, services };
}

interface LoadedProject {
  name: string;
  workingDir: string;
  files: string[];
  model: ComposeModel | null;
}

/** `docker compose` for one container's Docker. */
class ComposeCommand {
  constructor(
    private readonly runtime: GuestRuntime,
    private readonly ctx: CommandContext,
    private readonly legacy: boolean,
  ) {}

  private get guest() {
    return this.runtime.guest;
  }

  private err(line: string): void {
    this.ctx.stderr.write(`${line}\n`);
  }

  async run(args: string[]): Promise<number> {
    let parsed: { options: GlobalOptions; rest: string[] };
    try {
      parsed = parseGlobalOptions(args);
    } catch (error) {
      if (error instanceof UsageError) return this.usage(error.message);
      throw error;
    }
    const [subcommand, ...rest] = parsed.rest;
    try {
      switch (subcommand) {
        case undefined:
          this.ctx.stdout.write('Usage:  docker compose [OPTIONS] COMMAND\n');
          return 0;
        case 'version':
          this.ctx.stdout.write(`${composeVersion(this.runtime, this.legacy)}\n`);
          return 0;
        case 'up':
          return await this.up(parsed.options, rest);
        case 'down':
          return await this.down(parsed.options, rest);
        case 'ps':
          return this.ps(parsed.options, rest);
        case 'logs':
          return this.logs(parsed.options, rest);
        case 'pull':
          return await this.pull(parsed.options, rest);
        case 'restart':
          return this.restart(parsed.options, rest);
        case 'ls':
          return this.ls(rest);
        default:
          this.err(`unknown docker command: "compose ${subcommand}"`);
          return 1;
      }
    } catch (error) {
      if (error instanceof UsageError) return this.usage(error.message);
      if (error instanceof ComposeError) {
        this.err(error.message);
        return 1;
      }
      throw error;
    }
  }

  private usage(message: string): number {
    this.err(message);
    return 1;
  }

  private requireDaemon(): boolean {
    if (this.guest.dockerRunning()) return true;
    this.err(DAEMON_DOWN);
    return false;
  }

  /** Reads the compose files and their environment; `needFile: false` lets `-p NAME` alone work. */
  private load(options: GlobalOptions, needFile: boolean): LoadedProject {
    const { fs } = this.ctx;
    const cwd = this.ctx.cwd;
    let files = options.files.map((file) => posix.resolve(cwd, file));
    const workingDir = options.projectDirectory
      ? posix.resolve(cwd, options.projectDirectory)
      : files.length > 0
        ? posix.dirname(files[0])
        : cwd;
    if (files.length === 0) {
      const found = DEFAULT_FILES.map((name) => posix.join(workingDir, name)).find((path) =>
        fs.isFile(path),
      );
      if (found) files = [found];
    }
    if (files.length === 0) {
      if (!needFile && options.projectName)
        return { name: normalizeProjectName(options.projectName), workingDir, files, model: null };
      throw new ComposeError('no configuration file provided: not found');
    }
    let env: Record<string, string> = {};
    if (options.envFile !== null) {
      const envPath = posix.resolve(cwd, options.envFile);
      if (!fs.isFile(envPath)) throw new ComposeError(`couldn't find env file: ${envPath}`);
      env = parseEnvFile(fs.readFile(envPath).toString());
    } else if (fs.isFile(posix.join(workingDir, '.env'))) {
      env = parseEnvFile(fs.readFile(posix.join(workingDir, '.env')).toString());
    }
    const models: ComposeModel[] = [];
    for (const file of files) {
      if (!fs.isFile(file)) throw new ComposeError(`open ${file}: no such file or directory`);
      models.push(parseComposeFile(fs.readFile(file).toString(), env));
    }
    const model = mergeModels(models);
    for (const warning of model.warnings) this.err(`WARN[0000] ${warning}`);
    const name = normalizeProjectName(
      options.projectName ?? model.name ?? posix.basename(workingDir),
    );
    if (name === '') throw new ComposeError('project name must not be empty');
    return { name, workingDir, files, model };
  }

  private async up(options: GlobalOptions, args: string[]): Promise<number> {
    const { set, services: selected } = parseSubcommandArgs(
      args,
      [
        '-d',
        '--detach',
        '--remove-orphans',
        '--force-recreate',
        '--no-recreate',
        '--wait',
        '--quiet-pull',
        '--build',
        '--no-build',
        '--no-deps',
        '--always-recreate-deps',
        '-V',
        '--renew-anon-volumes',
        '-y',
        '--yes',
      ],
      ['--pull', '-t', '--timeout', '--wait-timeout', '--scale'],
    );
    if (!set.has('-d') && !set.has('--detach')) {
      this.err('the Proxmox VE simulator runs compose projects detached only: use "up -d"');
      return 1;
    }
    const project = this.load(options, true);
    if (!this.requireDaemon()) return 1;
    const model = project.model as ComposeModel;
    for (const service of selected) {
      if (!model.services.some((s) => s.name === service))
        throw new ComposeError(`no such service: ${service}`);
    }
    if (!this.runtime.nestingAllowed()) {
      const service = model.services[0]?.name ?? 'app';
      this.err(
        `Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error mounting "proc" to rootfs at "/proc": mount proc:/proc (via /proc/self/fd/6), flags: 0xe: permission denied: unknown (container ${project.name}-${service}-1; hint: the CT needs features nesting=1)`,
      );
      return 1;
    }
    const previous = this.guest.projects.get(project.name);
    const wanted = model.services.filter((s) => selected.length === 0 || selected.includes(s.name));
    const kept =
      previous?.services.filter(
        (s) =>
          !wanted.some((w) => w.name === s.name) &&
          (selected.length > 0 || !set.has('--remove-orphans')),
      ) ?? [];
    const states: ComposeServiceState[] = [...kept];
    const lines: string[] = [];
    if (!previous)
      lines.push(
        ` Network ${project.name}_default  Creating`,
        ` Network ${project.name}_default  Created`,
      );
    for (const spec of wanted) {
      const containerName = `${project.name}-${spec.name}-1`;
      const before = previous?.services.find((s) => s.name === spec.name);
      const ports = this.allocatePorts(project.name, spec, before, states);
      if (typeof ports === 'string') {
        const id = before?.containerId ?? randomHex(this.runtime, 32);
        this.err(
          `Error response from daemon: driver failed programming external connectivity on endpoint ${containerName} (${id}): ${ports}`,
        );
        return 1;
      }
      const image = spec.image ?? `${spec.name}:latest`;
      const unchanged =
        before &&
        before.image === image &&
        JSON.stringify(before.ports) === JSON.stringify(ports) &&
        !set.has('--force-recreate');
      if (unchanged) {
        states.push(before);
        lines.push(` Container ${containerName}  Running`);
        continue;
      }
      const now = this.runtime.now();
      states.push({
        name: spec.name,
        image,
        ports,
        containerId: randomHex(this.runtime, 32),
        createdAt: now,
        log: [
          `${spec.name} started (image ${image}) listening on ${formatPorts(ports) || 'no published ports'}`,
        ],
      });
      lines.push(
        ` Container ${containerName}  ${before ? 'Recreate' : 'Creating'}`,
        ` Container ${containerName}  ${before ? 'Recreated' : 'Created'}`,
      );
      lines.push(` Container ${containerName}  Starting`, ` Container ${containerName}  Started`);
    }
    const entry: ComposeProject = {
      name: project.name,
      workingDir: project.workingDir,
      configFiles: project.files,
      services: states,
      createdAt: previous?.createdAt ?? this.runtime.now(),
    };
    this.guest.projects.set(project.name, entry);
    const failures = await this.runtime.applyServices();
    const failed = states.flatMap((s) =>
      s.ports
        .filter((p) => p.protocol === 'tcp' && failures.has(p.hostPort))
        .map((p) => ({ service: s, port: p })),
    );
    if (failed.length > 0) {
      const { service, port } = failed[0];
      entry.services = states.filter((s) => !failed.some((f) => f.service === s));
      if (entry.services.length === 0) this.guest.projects.delete(project.name);
      await this.runtime.applyServices();
      this.err(
        `Error response from daemon: driver failed programming external connectivity on endpoint ${project.name}-${service.name}-1 (${service.containerId}): failed to bind port 0.0.0.0:${port.hostPort}/tcp: ${failures.get(port.hostPort) ?? ''}`,
      );
      return 1;
    }
    for (const line of lines) this.err(line);
    return 0;
  }

  /** Chooses host ports: fixed ones must be free in this container, others get an ephemeral port. */
  private allocatePorts(
    projectName: string,
    spec: ComposeServiceSpec,
    before: ComposeServiceState | undefined,
    pending: ComposeServiceState[],
  ): BoundPort[] | string {
    const used = new Set<string>();
    for (const project of this.guest.projects.values()) {
      if (project.name === projectName) continue;
      for (const service of project.services)
        for (const port of service.ports) used.add(`${port.protocol}/${port.hostPort}`);
    }
    for (const service of pending)
      for (const port of service.ports) used.add(`${port.protocol}/${port.hostPort}`);
    const bound: BoundPort[] = [];
    for (const mapping of spec.ports) {
      const key = (port: number): string => `${mapping.protocol}/${port}`;
      let hostPort: number | undefined;
      if (mapping.published) {
        for (let port = mapping.published.from; port <= mapping.published.to; port++) {
          if (!used.has(key(port))) {
            hostPort = port;
            break;
          }
        }
        if (hostPort === undefined)
          return `Bind for ${mapping.hostIp ?? '0.0.0.0'}:${mapping.published.from} failed: port is already allocated`;
      } else {
        const reuse = before?.ports.find(
          (p) =>
            p.target === mapping.target &&
            p.protocol === mapping.protocol &&
            !used.has(key(p.hostPort)),
        );
        hostPort = reuse?.hostPort;
        for (let port = EPHEMERAL_PORT_START; hostPort === undefined; port++)
          if (!used.has(key(port))) hostPort = port;
      }
      used.add(key(hostPort));
      bound.push({
        hostIp: mapping.hostIp,
        hostPort,
        target: mapping.target,
        protocol: mapping.protocol,
      });
    }
    return bound;
  }

  private async down(options: GlobalOptions, args: string[]): Promise<number> {
    parseSubcommandArgs(
      args,
      ['--remove-orphans', '-v', '--volumes'],
      ['--rmi', '-t', '--timeout'],
    );
    const project = this.load(options, false);
    if (!this.requireDaemon()) return 1;
    const existing = this.guest.projects.get(project.name);
    if (!existing) {
      this.err(`WARN[0000] No resource found to remove for project "${project.name}".`);
      return 0;
    }
    this.guest.projects.delete(project.name);
    await this.runtime.applyServices();
    for (const service of existing.services) {
      const name = `${project.name}-${service.name}-1`;
      this.err(
        ` Container ${name}  Stopping\n Container ${name}  Stopped\n Container ${name}  Removing\n Container ${name}  Removed`,
      );
    }
    this.err(
      ` Network ${project.name}_default  Removing\n Network ${project.name}_default  Removed`,
    );
    return 0;
  }

  private ps(options: GlobalOptions, args: string[]): number {
    const { set, services } = parseSubcommandArgs(
      args,
      ['-a', '--all', '-q', '--quiet', '--services', '--no-trunc', '--orphans'],
      ['--format', '--status', '--filter'],
    );
    const project = this.load(options, false);
    if (!this.requireDaemon()) return 1;
    const existing = this.guest.projects.get(project.name);
    const rows = (existing?.services ?? []).filter(
      (s) => services.length === 0 || services.includes(s.name),
    );
    const format = set.get('--format') ?? 'table';
    if (set.has('--services')) {
      for (const row of rows) this.ctx.stdout.write(`${row.name}\n`);
      return 0;
    }
    if (set.has('-q') || set.has('--quiet')) {
      for (const row of rows) this.ctx.stdout.write(`${row.containerId}\n`);
      return 0;
    }
    const now = this.runtime.now();
    if (format === 'json') {
      for (const row of rows) {
        const name = `${project.name}-${row.name}-1`;
        this.ctx.stdout.write(
          `${JSON.stringify({
            Command: '"docker-entrypoint.sh"',
            CreatedAt: `${new Date(row.createdAt)
              .toISOString()
              .replace('T', ' ')
              .replace(/\.\d+Z$/, '')} +0000 UTC`,
            ExitCode: 0,
            Health: '',
            ID: row.containerId.slice(0, 12),
            Image: row.image,
            Labels: `com.docker.compose.project=${project.name},com.docker.compose.service=${row.name},com.docker.compose.container-number=1`,
            LocalVolumes: '0',
            Mounts: '',
            Name: name,
            Names: name,
            Networks: `${project.name}_default`,
            Ports: formatPorts(row.ports),
            Project: project.name,
            Publishers: row.ports.map((p) => ({
              URL: p.hostIp ?? '0.0.0.0',
              TargetPort: p.target,
              PublishedPort: p.hostPort,
              Protocol: p.protocol,
            })),
            RunningFor: `${humanDuration(now - row.createdAt)} ago`,
            Service: row.name,
            Size: '0B',
            State: 'running',
            Status: `Up ${humanDuration(now - row.createdAt)}`,
          })}\n`,
        );
      }
      return 0;
    }
    if (format !== 'table')
      throw new UsageError(
        `unsupported format "${format}" in the Proxmox VE simulator (use json or table)`,
      );
    this.ctx.stdout.write(
      'NAME                IMAGE               COMMAND                  SERVICE   CREATED          STATUS          PORTS\n',
    );
    for (const row of rows) {
      const age = humanDuration(now - row.createdAt);
      this.ctx.stdout.write(
        `${project.name}-${row.name}-1   ${row.image}   "docker-entrypoint.sh"   ${row.name}   ${age} ago   Up ${age}   ${formatPorts(row.ports)}\n`,
      );
    }
    return 0;
  }

  private logs(options: GlobalOptions, args: string[]): number {
    const { set, services } = parseSubcommandArgs(
      args,
      ['-f', '--follow', '--no-log-prefix', '--no-color', '-t', '--timestamps'],
      ['--tail', '-n', '--since', '--until', '--index'],
    );
    if (set.has('-f') || set.has('--follow')) {
      this.err('logs --follow is not supported by the Proxmox VE simulator (it would never end)');
      return 1;
    }
    const project = this.load(options, false);
    if (!this.requireDaemon()) return 1;
    const tailText = set.get('--tail') ?? set.get('-n') ?? 'all';
    const tail = tailText === 'all' ? Infinity : Number(tailText);
    if (!Number.isInteger(tail) && tail !== Infinity)
      throw new UsageError(`invalid argument "${tailText}" for "-n, --tail"`);
    const existing = this.guest.projects.get(project.name);
    for (const service of existing?.services ?? []) {
      if (services.length > 0 && !services.includes(service.name)) continue;
      const lines = tail === Infinity ? service.log : tail === 0 ? [] : service.log.slice(-tail);
      for (const line of lines)
        this.ctx.stdout.write(
          set.has('--no-log-prefix') ? `${line}\n` : `${service.name}-1  | ${line}\n`,
        );
    }
    return 0;
  }

  private async pull(options: GlobalOptions, args: string[]): Promise<number> {
    const { set, services } = parseSubcommandArgs(
      args,
      ['-q', '--quiet', '--ignore-pull-failures', '--include-deps', '--ignore-buildable'],
      ['--policy'],
    );
    const project = this.load(options, true);
    if (!this.requireDaemon()) return 1;
    const model = project.model as ComposeModel;
    const targets = model.services.filter(
      (s) => services.length === 0 || services.includes(s.name),
    );
    await this.runtime.installDelay();
    if (!set.has('-q') && !set.has('--quiet'))
      for (const service of targets) this.err(` ${service.name} Pulling\n ${service.name} Pulled`);
    return 0;
  }

  private restart(options: GlobalOptions, args: string[]): number {
    const { services } = parseSubcommandArgs(args, ['--no-deps'], ['-t', '--timeout']);
    const project = this.load(options, false);
    if (!this.requireDaemon()) return 1;
    const existing = this.guest.projects.get(project.name);
    for (const service of existing?.services ?? []) {
      if (services.length > 0 && !services.includes(service.name)) continue;
      this.guest.appendServiceLog(project.name, service.name, `${service.name} restarted`);
      this.err(
        ` Container ${project.name}-${service.name}-1  Restarting\n Container ${project.name}-${service.name}-1  Started`,
      );
    }
    return 0;
  }

  private ls(args: string[]): number {
    const { set } = parseSubcommandArgs(
      args,
      ['-a', '--all', '-q', '--quiet'],
      ['--format', '--filter'],
    );
    if (!this.requireDaemon()) return 1;
    const projects = [...this.guest.projects.values()];
    if (set.get('--format') === 'json') {
      const rows = projects.map((p) => ({
        Name: p.name,
        Status: `running(${p.services.length})`,
        ConfigFiles: p.configFiles.join(','),
      }));
      this.ctx.stdout.write(`${JSON.stringify(rows)}\n`);
      return 0;
    }
    this.ctx.stdout.write('NAME                STATUS              CONFIG FILES\n');
    for (const p of projects)
      this.ctx.stdout.write(
        `${p.name}   running(${p.services.length})   ${p.configFiles.join(',')}\n`,
      );
    return 0;
  }
}

/** Later files override earlier ones service by service, as `-f a -f b` does. */
function mergeModels(models: ComposeModel[]): ComposeModel {
  const services = new Map<string, ComposeServiceSpec>();
  let name: string | null = null;
  const warnings: string[] = [];
  for (const model of models) {
    name = model.name ?? name;
    warnings.push(...model.warnings);
    for (const service of model.services) {
      const existing = services.get(service.name);
      services.set(
        service.name,
        existing
          ? {
              name: service.name,
              image: service.image ?? existing.image,
              ports: [...existing.ports, ...service.ports],
            }
          : service,
      );
    }
  }
  return { name, services: [...services.values()], warnings };
}

/** `docker`: version, compose (with the plugin), and `docker ps` over the compose services. */
export function dockerCli(runtime: GuestRuntime): Command {
  return async (ctx) => {
    const [subcommand, ...rest] = ctx.argv.slice(1);
    switch (subcommand) {
      case '--version':
      case '-v':
        ctx.stdout.write(`${dockerVersion(runtime)}\n`);
        return 0;
      case 'version':
        ctx.stdout.write(
          `Client:\n Version:           ${dockerVersion(runtime).split(' ')[2].replace(',', '')}\n`,
        );
        if (!runtime.guest.dockerRunning()) {
          ctx.stderr.write(`${DAEMON_DOWN}\n`);
          return 1;
        }
        ctx.stdout.write(
          `\nServer:\n Engine:\n  Version:          ${dockerVersion(runtime).split(' ')[2].replace(',', '')}\n`,
        );
        return 0;
      case 'compose':
        if (!runtime.guest.packages.has('docker-compose-plugin')) {
          ctx.stderr.write("docker: 'compose' is not a docker command.\nSee 'docker --help'\n");
          return 1;
        }
        return new ComposeCommand(runtime, ctx, false).run(rest);
      case 'ps':
      case 'info': {
        if (!runtime.guest.dockerRunning()) {
          ctx.stderr.write(`${DAEMON_DOWN}\n`);
          return 1;
        }
        if (subcommand === 'info') {
          ctx.stdout.write(
            `Server Version: ${dockerVersion(runtime).split(' ')[2].replace(',', '')}\nStorage Driver: overlay2\n`,
          );
          return 0;
        }
        ctx.stdout.write('CONTAINER ID   IMAGE   COMMAND   CREATED   STATUS   PORTS   NAMES\n');
        for (const project of runtime.guest.projects.values()) {
          for (const service of project.services) {
            ctx.stdout.write(
              `${service.containerId.slice(0, 12)}   ${service.image}   "docker-entrypoint.sh"   Up   ${formatPorts(service.ports)}   ${project.name}-${service.name}-1\n`,
            );
          }
        }
        return 0;
      }
      case undefined:
        ctx.stdout.write('Usage:  docker [OPTIONS] COMMAND\n');
        return 0;
      default:
        ctx.stderr.write(
          `docker: '${subcommand}' is not supported by the Proxmox VE simulator (supported: --version, version, info, ps, compose)\n`,
        );
        return 1;
    }
  };
}

/** Debian's docker-compose v1 binary, driving the same projects. */
export function dockerComposeLegacy(runtime: GuestRuntime): Command {
  return (ctx) => {
    if (ctx.argv[1] === '--version' || ctx.argv[1] === 'version' || ctx.argv[1] === '-v') {
      ctx.stdout.write(`${composeVersion(runtime, true)}\n`);
      return 0;
    }
    return new ComposeCommand(runtime, ctx, true).run(ctx.argv.slice(1));
  };
}

/** `systemctl` for the docker and containerd units. */
export function systemctl(runtime: GuestRuntime): Command {
  return async (ctx) => {
    const args = ctx.argv.slice(1).filter((arg) => !arg.startsWith('-'));
    const now = ctx.argv.includes('--now');
    const [action, ...units] = args;
    if (action === 'daemon-reload') return 0;
    if (action === undefined || units.length === 0) {
      ctx.stderr.write('Too few arguments.\n');
      return 1;
    }
    let status = 0;
    for (const rawUnit of units) {
      const unit = rawUnit.replace(/\.(service|socket)$/, '');
      const guest = runtime.guest;
      const installed =
        unit === 'docker'
          ? guest.packages.has('docker-ce') || guest.packages.has('docker.io')
          : unit === 'containerd'
            ? guest.packages.has('containerd.io') || guest.packages.has('containerd')
            : false;
      if (!installed) {
        if (action === 'is-active') {
          ctx.stdout.write('inactive\n');
          status = 3;
        } else {
          ctx.stderr.write(`Failed to ${action} ${rawUnit}: Unit ${unit}.service not found.\n`);
          status = action === 'status' ? 4 : 5;
        }
        continue;
      }
      const running = unit !== 'docker' || !guest.dockerStopped;
      switch (action) {
        case 'is-active':
          ctx.stdout.write(running ? 'active\n' : 'inactive\n');
          if (!running) status = 3;
          break;
        case 'is-enabled':
          ctx.stdout.write('enabled\n');
          break;
        case 'status':
          ctx.stdout.write(
            `● ${unit}.service\n     Active: ${running ? 'active (running)' : 'inactive (dead)'}\n`,
          );
          if (!running) status = 3;
          break;
        case 'start':
        case 'restart':
        case 'enable':
        case 'reenable':
          if (unit === 'docker' && (action !== 'enable' || now) && guest.dockerStopped) {
            guest.dockerStopped = false;
            await runtime.applyServices();
          }
          break;
        case 'stop':
        case 'disable':
          if (unit === 'docker' && (action === 'stop' || now) && !guest.dockerStopped) {
            guest.dockerStopped = true;
            await runtime.applyServices();
          }
          break;
        default:
          ctx.stderr.write(`Unknown command verb ${action}.\n`);
          return 1;
      }
    }
    return status;
  };
}
