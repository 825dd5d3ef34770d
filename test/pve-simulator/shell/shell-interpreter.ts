import { posix } from 'node:path';
import { FsError, VirtualFs } from '../state/virtual-fs';
import {
  BufferSink,
  BufferStdin,
  CommandIo,
  EMPTY_STDIN,
  FileSink,
  NULL_SINK,
  Sink,
  Stdin,
} from './command-io';
import { dashEcho } from './dash-echo';
import { parseShell, Pipeline, Script, ShellSyntaxError, SimpleCommand } from './shell-syntax';

export interface CommandContext extends CommandIo {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  fs: VirtualFs;
  /** Runs another command line or argv in the same system (for `sh -c`, `env`, `ssh`). */
  system: CommandSystem;
}

export type Command = (ctx: CommandContext) => Promise<number> | number;

/** Which shell's wording the interpreter uses: the node's bash or a container's dash. */
export type ShellDialect = 'bash' | 'dash';

const BIN_DIRECTORIES = [
  '/bin',
  '/usr/bin',
  '/sbin',
  '/usr/sbin',
  '/usr/local/bin',
  '/usr/local/sbin',
];

/** The commands of one machine (a node or a container) and the shell that runs them. */
export class CommandSystem {
  constructor(
    readonly fs: VirtualFs,
    private readonly lookup: (name: string) => Command | undefined,
    readonly dialect: ShellDialect,
    readonly baseEnv: Readonly<Record<string, string>>,
  ) {}

  /** The program a name refers to, following bin directories the way PATH lookup would. */
  resolve(name: string): Command | undefined {
    if (!name.includes('/')) return this.lookup(name);
    const dir = posix.dirname(name);
    if (BIN_DIRECTORIES.includes(dir)) return this.lookup(posix.basename(name));
    return undefined;
  }

  has(name: string): boolean {
    return this.lookup(name) !== undefined;
  }

  /** Runs an argv without a shell, as `lxc-attach -- argv…` does for `pct exec`. */
  async exec(
    argv: string[],
    io: CommandIo,
    env: Record<string, string> = { ...this.baseEnv },
    cwd = '/',
  ): Promise<number> {
    const name = argv[0];
    const command = this.resolve(name);
    if (!command) {
      const script = this.executableScript(name, cwd);
      if (script !== undefined) return this.runScript(script, io, { env, cwd });
      io.stderr.write(`sh: 1: ${name}: not found\n`);
      return 127;
    }
    return command({ ...io, argv, env, cwd, fs: this.fs, system: this });
  }

  /** Runs a shell script (`sh -c SCRIPT`, or what an SSH client sent). */
  async runScript(source: string, io: CommandIo, options: ScriptOptions = {}): Promise<number> {
    const dialect = options.dialect ?? this.dialect;
    let script: Script;
    try {
      script = parseShell(source, options.env?.HOME ?? this.baseEnv.HOME ?? '/root');
    } catch (error) {
      if (!(error instanceof ShellSyntaxError)) throw error;
      io.stderr.write(`${shellPrefix(dialect)}${error.message}\n`);
      return 2;
    }
    const run = new ScriptRun(
      this,
      dialect,
      { ...this.baseEnv, ...options.env },
      options.cwd ?? '/',
      options,
    );
    return run.execute(script, io);
  }

  /** A file marked executable that starts with a `#!…sh` line runs as a script. */
  executableScript(name: string, cwd: string): string | undefined {
    if (!name.includes('/')) return undefined;
    const path = VirtualFs.resolve(cwd, name);
    const stat = this.fs.stat(path);
    if (stat?.kind !== 'file' || (stat.mode & 0o111) === 0) return undefined;
    const text = this.fs.readFile(path).toString();
    return /^#!\s*\/(?:usr\/)?bin\/(?:env\s+)?(?:ba|da)?sh\b/.test(text) ? text : undefined;
  }
}

export interface ScriptOptions {
  env?: Record<string, string>;
  cwd?: string;
  dialect?: ShellDialect;
  errexit?: boolean;
  xtrace?: boolean;
}

export function shellPrefix(dialect: ShellDialect): string {
  return dialect === 'bash' ? 'bash: line 1: ' : 'sh: 1: ';
}

/** `exit N` unwinds the script run. */
class ExitRequest extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

/** One execution of a script: its variables, options and current directory. */
class ScriptRun {
  private errexit = false;
  private pipefail = false;
  private xtrace = false;

  constructor(
    private readonly system: CommandSystem,
    private readonly dialect: ShellDialect,
    private readonly env: Record<string, string>,
    private cwd: string,
    options: ScriptOptions,
  ) {
    this.errexit = options.errexit ?? false;
    this.xtrace = options.xtrace ?? false;
  }

  private prefix(): string {
    return shellPrefix(this.dialect);
  }

  async execute(script: Script, io: CommandIo): Promise<number> {
    let status = 0;
    try {
      for (const list of script) {
        let lastIndex = 0;
        status = await this.runPipeline(list.pipelines[0], io);
        for (let i = 0; i < list.operators.length; i++) {
          const operator = list.operators[i];
          if ((operator === '&&' && status !== 0) || (operator === '||' && status === 0)) continue;
          lastIndex = i + 1;
          status = await this.runPipeline(list.pipelines[i + 1], io);
        }
        const last = list.pipelines[lastIndex];
        if (
          this.errexit &&
          status !== 0 &&
          lastIndex === list.pipelines.length - 1 &&
          !last.negated
        ) {
          return status;
        }
      }
    } catch (error) {
      if (error instanceof ExitRequest) return error.status;
      throw error;
    }
    return status;
  }

  private async runPipeline(pipeline: Pipeline, io: CommandIo): Promise<number> {
    let stdin = io.stdin;
    const statuses: number[] = [];
    for (let i = 0; i < pipeline.commands.length; i++) {
      const isLast = i === pipeline.commands.length - 1;
      const stdout = isLast ? io.stdout : new BufferSink();
      statuses.push(
        await this.runSimpleCommand(pipeline.commands[i], { stdin, stdout, stderr: io.stderr }),
      );
      if (!isLast) stdin = new BufferStdin((stdout as BufferSink).contents());
    }
    let status = statuses[statuses.length - 1];
    if (this.pipefail) status = [...statuses].reverse().find((s) => s !== 0) ?? 0;
    if (pipeline.negated) return status === 0 ? 1 : 0;
    return status;
  }

  private async runSimpleCommand(command: SimpleCommand, io: CommandIo): Promise<number> {
    const redirected = this.applyRedirections(command, io);
    if (typeof redirected === 'number') return redirected;
    if (command.argv.length === 0) {
      for (const { name, value } of command.assignments) this.env[name] = value;
      return 0;
    }
    const env = { ...this.env };
    for (const { name, value } of command.assignments) env[name] = value;
    if (this.xtrace) redirected.stderr.write(`+ ${command.argv.join(' ')}\n`);
    const builtin = this.builtin(command.argv, redirected);
    if (builtin !== undefined) return builtin;
    const name = command.argv[0];
    const program = this.system.resolve(name);
    if (program) {
      return program({
        ...redirected,
        argv: command.argv,
        env,
        cwd: this.cwd,
        fs: this.system.fs,
        system: this.system,
      });
    }
    const script = this.system.executableScript(name, this.cwd);
    if (script !== undefined)
      return this.system.runScript(script, redirected, {
        env,
        cwd: this.cwd,
        dialect: this.dialect,
      });
    const missing = name.includes('/') ? `${name}: No such file or directory` : this.notFound(name);
    redirected.stderr.write(`${this.prefix()}${missing}\n`);
    return 127;
  }

  private notFound(name: string): string {
    return this.dialect === 'bash' ? `${name}: command not found` : `${name}: not found`;
  }

  /** Shell builtins that change the shell itself; everything else is a program. */
  private builtin(argv: string[], io: CommandIo): number | undefined {
    const [name, ...args] = argv;
    switch (name) {
      case ':':
        return 0;
      case 'echo':
        return this.dialect === 'dash'
          ? (dashEcho({
              ...io,
              argv,
              env: this.env,
              cwd: this.cwd,
              fs: this.system.fs,
              system: this.system,
            }) as number)
          : undefined;
      case 'exit': {
        const status = args[0] === undefined ? 0 : Number(args[0]);
        throw new ExitRequest(Number.isInteger(status) ? status & 255 : 2);
      }
      case 'cd': {
        const target = VirtualFs.resolve(this.cwd, args[0] ?? this.env.HOME ?? '/');
        if (!this.system.fs.isDir(target)) {
          io.stderr.write(`${this.prefix()}cd: can't cd to ${args[0]}\n`);
          return 2;
        }
        this.cwd = target;
        return 0;
      }
      case 'export':
        for (const arg of args) {
          const eq = arg.indexOf('=');
          if (eq > 0) this.env[arg.slice(0, eq)] = arg.slice(eq + 1);
        }
        return 0;
      case 'unset':
        for (const arg of args) delete this.env[arg];
        return 0;
      case 'set':
        return this.set(args, io);
      case 'command': {
        if (args[0] !== '-v' || args.length < 2) return undefined;
        let status = 0;
        for (const candidate of args.slice(1)) {
          if (this.system.has(candidate)) io.stdout.write(`/usr/bin/${candidate}\n`);
          else status = 1;
        }
        return status;
      }
      default:
        return undefined;
    }
  }

  private set(args: string[], io: CommandIo): number {
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      const enable = arg.startsWith('-');
      if (arg === '-o' || arg === '+o') {
        const option = args[++i];
        if (option === 'pipefail') this.pipefail = enable;
        else if (option === 'errexit') this.errexit = enable;
        else if (option === 'xtrace') this.xtrace = enable;
        else if (option === 'nounset') continue;
        else {
          io.stderr.write(`${this.prefix()}set: Illegal option -o ${option}\n`);
          return 2;
        }
        continue;
      }
      if (!/^[-+][euxvf]+$/.test(arg)) {
        io.stderr.write(`${this.prefix()}set: Illegal option ${arg}\n`);
        return 2;
      }
      for (const flag of arg.slice(1)) {
        if (flag === 'e') this.errexit = enable;
        if (flag === 'x') this.xtrace = enable;
      }
    }
    return 0;
  }

  /** Applies redirections left to right; returns the exit status if one of them fails. */
  private applyRedirections(command: SimpleCommand, io: CommandIo): CommandIo | number {
    let stdin: Stdin = io.stdin;
    const outputs: Record<1 | 2, Sink> = { 1: io.stdout, 2: io.stderr };
    const { fs } = this.system;
    for (const redirection of command.redirections) {
      const { fd, operator, target } = redirection;
      if (operator === '<<' || operator === '<<-') {
        if (fd === 0) stdin = new BufferStdin(Buffer.from(target));
        continue;
      }
      if (operator === '>&' || operator === '<&') {
        if (target === '-') {
          if (fd === 0) stdin = EMPTY_STDIN;
          else if (fd === 1 || fd === 2) outputs[fd] = NULL_SINK;
        } else if (target === '1' || target === '2') {
          if (fd === 1 || fd === 2) outputs[fd] = outputs[target === '1' ? 1 : 2];
        } else if (target === '0' && fd === 0) {
          continue;
        } else {
          io.stderr.write(`${this.prefix()}${target}: Bad file descriptor\n`);
          return this.dialect === 'bash' ? 1 : 2;
        }
        continue;
      }
      const path = VirtualFs.resolve(this.cwd, target);
      if (operator === '<') {
        if (path === '/dev/null') {
          stdin = EMPTY_STDIN;
          continue;
        }
        try {
          stdin = new BufferStdin(fs.readFile(path));
        } catch (error) {
          if (!(error instanceof FsError)) throw error;
          io.stderr.write(`${this.prefix()}${this.openError(target, error, 'open')}\n`);
          return this.dialect === 'bash' ? 1 : 2;
        }
        continue;
      }
      if (fd !== 1 && fd !== 2) continue;
      if (path === '/dev/null') {
        outputs[fd] = NULL_SINK;
        continue;
      }
      try {
        if (operator === '>>') fs.writeFile(path, '', { append: true });
        else fs.writeFile(path, '');
      } catch (error) {
        if (!(error instanceof FsError)) throw error;
        io.stderr.write(`${this.prefix()}${this.openError(target, error, 'create')}\n`);
        return this.dialect === 'bash' ? 1 : 2;
      }
      outputs[fd] = new FileSink(fs, path);
    }
    return { stdin, stdout: outputs[1], stderr: outputs[2] };
  }

  private openError(target: string, error: FsError, verb: 'open' | 'create'): string {
    if (this.dialect === 'bash') return `${target}: ${error.message}`;
    if (error.code === 'ENOENT' && verb === 'create')
      return `cannot create ${target}: Directory nonexistent`;
    if (error.code === 'ENOENT') return `cannot open ${target}: No such file`;
    return `cannot ${verb} ${target}: ${error.message}`;
  }
}
