import { posix } from 'node:path';
import { FsError, VirtualFs } from '../state/virtual-fs';
import type { Command, CommandContext } from './shell-interpreter';
import { formatPrintf } from './printf-format';

/** What the basic commands need from the machine they run on. */
export interface MachineInfo {
  hostname(): string;
  sleep(ms: number): Promise<void>;
}

/** Splits `-abc` style short options from operands; stops at `--` or the first operand. */
function splitOptions(
  args: string[],
  withValue: readonly string[] = [],
): { flags: Set<string>; values: Map<string, string>; operands: string[] } | string {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    if (arg.startsWith('--')) {
      const [name, value] = arg.slice(2).split('=', 2);
      if (withValue.includes(`--${name}`)) {
        const v = value ?? args[++i];
        if (v === undefined) return `option '--${name}' requires an argument`;
        values.set(`--${name}`, v);
      } else flags.add(`--${name}`);
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const flag = `-${arg[j]}`;
      if (withValue.includes(flag)) {
        const v = arg.length > j + 1 ? arg.slice(j + 1) : args[++i];
        if (v === undefined) return `option requires an argument -- '${arg[j]}'`;
        values.set(flag, v);
        break;
      }
      flags.add(flag);
    }
  }
  return { flags, values, operands: args.slice(i) };
}

function usageError(ctx: CommandContext, program: string, message: string, status = 1): number {
  ctx.stderr.write(`${program}: ${message}\nTry '${program} --help' for more information.\n`);
  return status;
}

function fsMessage(error: unknown): string {
  if (error instanceof FsError) return error.message;
  throw error;
}

/** Parses `chmod` modes: octal, or symbolic like `a+r`, `u+x,go-w`. */
export function applyMode(current: number, mode: string): number | undefined {
  if (/^[0-7]{1,4}$/.test(mode)) return parseInt(mode, 8);
  let result = current;
  for (const clause of mode.split(',')) {
    const match = /^([ugoa]*)([-+=])([rwxX]*)$/.exec(clause);
    if (!match) return undefined;
    const who = match[1] === '' || match[1].includes('a') ? 'ugo' : match[1];
    let bits = 0;
    for (const perm of match[3]) {
      const value = perm === 'r' ? 4 : perm === 'w' ? 2 : 1;
      if (who.includes('u')) bits |= value << 6;
      if (who.includes('g')) bits |= value << 3;
      if (who.includes('o')) bits |= value;
    }
    if (match[2] === '+') result |= bits;
    else if (match[2] === '-') result &= ~bits;
    else {
      let mask = 0;
      if (who.includes('u')) mask |= 0o700;
      if (who.includes('g')) mask |= 0o070;
      if (who.includes('o')) mask |= 0o007;
      result = (result & ~mask) | bits;
    }
  }
  return result;
}

function evaluateTest(args: string[], fs: VirtualFs, cwd: string): boolean | string {
  if (args.length === 0) return false;
  if (args[0] === '!') {
    const inner = evaluateTest(args.slice(1), fs, cwd);
    return typeof inner === 'string' ? inner : !inner;
  }
  if (args.length === 1) return args[0] !== '';
  if (args.length === 2) {
    const [op, operand] = args;
    const path = VirtualFs.resolve(cwd, operand);
    const stat = fs.stat(path);
    switch (op) {
      case '-n':
        return operand !== '';
      case '-z':
        return operand === '';
      case '-e':
        return stat !== undefined;
      case '-f':
        return stat?.kind === 'file';
      case '-d':
        return stat?.kind === 'dir';
      case '-s':
        return stat !== undefined && stat.size > 0;
      case '-r':
      case '-w':
        return stat !== undefined;
      case '-x':
        return stat !== undefined && (stat.mode & 0o111) !== 0;
      default:
        return `${op}: unexpected operator`;
    }
  }
  if (args.length === 3) {
    const [left, op, right] = args;
    switch (op) {
      case '=':
      case '==':
        return left === right;
      case '!=':
        return left !== right;
      case '-eq':
      case '-ne':
      case '-lt':
      case '-le':
      case '-gt':
      case '-ge': {
        if (!/^-?\d+$/.test(left.trim()) || !/^-?\d+$/.test(right.trim()))
          return `Illegal number: ${/^-?\d+$/.test(left.trim()) ? right : left}`;
        const a = Number(left);
        const b = Number(right);
        return {
          '-eq': a === b,
          '-ne': a !== b,
          '-lt': a < b,
          '-le': a <= b,
          '-gt': a > b,
          '-ge': a >= b,
        }[op];
      }
      default:
        return `${op}: unexpected operator`;
    }
  }
  return 'too many arguments';
}

function echo(ctx: CommandContext): number {
  let args = ctx.argv.slice(1);
  let newline = true;
  let escapes = false;
  while (args.length > 0 && /^-[neE]+$/.test(args[0])) {
    for (const flag of args[0].slice(1)) {
      if (flag === 'n') newline = false;
      if (flag === 'e') escapes = true;
      if (flag === 'E') escapes = false;
    }
    args = args.slice(1);
  }
  const text = args.join(' ');
  const body = escapes ? formatPrintf('%b', [text]).output : Buffer.from(text);
  ctx.stdout.write(newline ? Buffer.concat([body, Buffer.from('\n')]) : body);
  return 0;
}

function printf(ctx: CommandContext): number {
  const [format, ...args] = ctx.argv.slice(1);
  if (format === undefined) {
    ctx.stderr.write("printf: missing operand\nTry 'printf --help' for more information.\n");
    return 1;
  }
  const result = formatPrintf(format, args);
  ctx.stdout.write(result.output);
  for (const error of result.errors) ctx.stderr.write(`${error}\n`);
  return result.errors.length > 0 ? 1 : 0;
}

async function cat(ctx: CommandContext): Promise<number> {
  const files = ctx.argv.slice(1).filter((arg) => arg !== '--');
  let status = 0;
  for (const file of files.length === 0 ? ['-'] : files) {
    if (file === '-') {
      ctx.stdout.write(await ctx.stdin.readAll());
      continue;
    }
    try {
      ctx.stdout.write(ctx.fs.readFile(VirtualFs.resolve(ctx.cwd, file)));
    } catch (error) {
      ctx.stderr.write(`cat: ${file}: ${fsMessage(error)}\n`);
      status = 1;
    }
  }
  return status;
}

async function tee(ctx: CommandContext): Promise<number> {
  const options = splitOptions(ctx.argv.slice(1));
  if (typeof options === 'string') return usageError(ctx, 'tee', options);
  const append = options.flags.has('-a') || options.flags.has('--append');
  const data = await ctx.stdin.readAll();
  ctx.stdout.write(data);
  let status = 0;
  for (const file of options.operands) {
    try {
      ctx.fs.writeFile(VirtualFs.resolve(ctx.cwd, file), data, { append });
    } catch (error) {
      ctx.stderr.write(`tee: ${file}: ${fsMessage(error)}\n`);
      status = 1;
    }
  }
  return status;
}

function mkdir(ctx: CommandContext): number {
  const options = splitOptions(ctx.argv.slice(1), ['-m', '--mode']);
  if (typeof options === 'string') return usageError(ctx, 'mkdir', options);
  if (options.operands.length === 0) return usageError(ctx, 'mkdir', 'missing operand');
  const parents = options.flags.has('-p') || options.flags.has('--parents');
  const modeText = options.values.get('-m') ?? options.values.get('--mode');
  const mode = modeText === undefined ? 0o755 : applyMode(0o755, modeText);
  if (mode === undefined) return usageError(ctx, 'mkdir', `invalid mode '${modeText}'`);
  let status = 0;
  for (const dir of options.operands) {
    try {
      ctx.fs.mkdir(VirtualFs.resolve(ctx.cwd, dir), { parents, mode });
      if (options.flags.has('-v')) ctx.stdout.write(`mkdir: created directory '${dir}'\n`);
    } catch (error) {
      ctx.stderr.write(`mkdir: cannot create directory '${dir}': ${fsMessage(error)}\n`);
      status = 1;
    }
  }
  return status;
}

function rm(ctx: CommandContext): number {
  const options = splitOptions(ctx.argv.slice(1));
  if (typeof options === 'string') return usageError(ctx, 'rm', options);
  const force = options.flags.has('-f') || options.flags.has('--force');
  const recursive =
    options.flags.has('-r') || options.flags.has('-R') || options.flags.has('--recursive');
  if (options.operands.length === 0 && !force) return usageError(ctx, 'rm', 'missing operand');
  let status = 0;
  for (const target of options.operands) {
    const path = VirtualFs.resolve(ctx.cwd, target);
    const stat = ctx.fs.stat(path);
    if (!stat) {
      if (!force) {
        ctx.stderr.write(`rm: cannot remove '${target}': No such file or directory\n`);
        status = 1;
      }
      continue;
    }
    if (stat.kind === 'dir' && !recursive) {
      ctx.stderr.write(`rm: cannot remove '${target}': Is a directory\n`);
      status = 1;
      continue;
    }
    ctx.fs.remove(path, { recursive });
  }
  return status;
}

function ls(ctx: CommandContext): number {
  const options = splitOptions(ctx.argv.slice(1));
  if (typeof options === 'string') return usageError(ctx, 'ls', options, 2);
  const all = options.flags.has('-a') || options.flags.has('-A');
  const targets = options.operands.length === 0 ? ['.'] : options.operands;
  let status = 0;
  for (const target of targets) {
    const path = VirtualFs.resolve(ctx.cwd, target);
    const stat = ctx.fs.stat(path);
    if (!stat) {
      ctx.stderr.write(`ls: cannot access '${target}': No such file or directory\n`);
      status = 2;
      continue;
    }
    if (targets.length > 1 && stat.kind === 'dir') ctx.stdout.write(`${target}:\n`);
    const names =
      stat.kind === 'dir'
        ? ctx.fs.list(path).filter((name) => all || !name.startsWith('.'))
        : [target];
    for (const name of names) ctx.stdout.write(`${name}\n`);
  }
  return status;
}

/** `test` and `[` (the same program; `[` wants its closing bracket). */
function test(ctx: CommandContext): number {
  let args = ctx.argv.slice(1);
  const bracket = posix.basename(ctx.argv[0]) === '[';
  if (bracket) {
    if (args[args.length - 1] !== ']') {
      ctx.stderr.write('[: missing ]\n');
      return 2;
    }
    args = args.slice(0, -1);
  }
  const result = evaluateTest(args, ctx.fs, ctx.cwd);
  if (typeof result === 'string') {
    ctx.stderr.write(`${bracket ? '[' : 'test'}: ${result}\n`);
    return 2;
  }
  return result ? 0 : 1;
}

function sleep(machine: MachineInfo): Command {
  return async (ctx) => {
    const operand = ctx.argv[1];
    const match = operand === undefined ? null : /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(operand);
    if (!match)
      return usageError(
        ctx,
        'sleep',
        operand === undefined ? 'missing operand' : `invalid time interval '${operand}'`,
      );
    const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2]] ?? 1;
    await machine.sleep(Number(match[1]) * unit * 1000);
    return 0;
  };
}

function env(ctx: CommandContext): Promise<number> | number {
  let i = 1;
  let environment = { ...ctx.env };
  if (ctx.argv[i] === '-i' || ctx.argv[i] === '--ignore-environment') {
    environment = {};
    i++;
  }
  for (; i < ctx.argv.length && /^[^=]+=/.test(ctx.argv[i]); i++) {
    const eq = ctx.argv[i].indexOf('=');
    environment[ctx.argv[i].slice(0, eq)] = ctx.argv[i].slice(eq + 1);
  }
  const rest = ctx.argv.slice(i);
  if (rest.length === 0) {
    for (const [key, value] of Object.entries(environment)) ctx.stdout.write(`${key}=${value}\n`);
    return 0;
  }
  const program = ctx.system.resolve(rest[0]);
  if (!program) {
    ctx.stderr.write(`env: '${rest[0]}': No such file or directory\n`);
    return 127;
  }
  return program({ ...ctx, argv: rest, env: environment });
}

function chmod(ctx: CommandContext): number {
  const [, mode, ...files] = ctx.argv;
  if (mode === undefined || files.length === 0) return usageError(ctx, 'chmod', 'missing operand');
  let status = 0;
  for (const file of files) {
    const path = VirtualFs.resolve(ctx.cwd, file);
    const stat = ctx.fs.stat(path);
    if (!stat) {
      ctx.stderr.write(`chmod: cannot access '${file}': No such file or directory\n`);
      status = 1;
      continue;
    }
    const next = applyMode(stat.mode, mode);
    if (next === undefined) return usageError(ctx, 'chmod', `invalid mode: '${mode}'`);
    ctx.fs.chmod(path, next);
  }
  return status;
}

function install(ctx: CommandContext): number {
  const options = splitOptions(ctx.argv.slice(1), [
    '-m',
    '--mode',
    '-o',
    '--owner',
    '-g',
    '--group',
  ]);
  if (typeof options === 'string') return usageError(ctx, 'install', options);
  const modeText = options.values.get('-m') ?? options.values.get('--mode');
  const mode = modeText === undefined ? 0o755 : applyMode(0o755, modeText);
  if (mode === undefined) return usageError(ctx, 'install', `invalid mode '${modeText}'`);
  try {
    if (options.flags.has('-d') || options.flags.has('--directory')) {
      for (const dir of options.operands)
        ctx.fs.mkdir(VirtualFs.resolve(ctx.cwd, dir), { parents: true, mode });
      return 0;
    }
    const [source, destination] = options.operands;
    if (source === undefined || destination === undefined)
      return usageError(ctx, 'install', 'missing file operand');
    let target = VirtualFs.resolve(ctx.cwd, destination);
    if (ctx.fs.isDir(target)) target = posix.join(target, posix.basename(source));
    ctx.fs.writeFile(target, ctx.fs.readFile(VirtualFs.resolve(ctx.cwd, source)), { mode });
    return 0;
  } catch (error) {
    ctx.stderr.write(`install: ${fsMessage(error)}\n`);
    return 1;
  }
}

/** `cp` and `mv` share their operand checks and error wording; neither recurses. */
function copyOrMove(program: 'cp' | 'mv'): Command {
  return (ctx) => {
    const options = splitOptions(ctx.argv.slice(1));
    if (typeof options === 'string') return usageError(ctx, program, options);
    const [source, destination] = options.operands;
    if (source === undefined || destination === undefined)
      return usageError(ctx, program, 'missing file operand');
    const from = VirtualFs.resolve(ctx.cwd, source);
    const stat = ctx.fs.stat(from);
    if (!stat) {
      ctx.stderr.write(`${program}: cannot stat '${source}': No such file or directory\n`);
      return 1;
    }
    try {
      if (program === 'mv') {
        ctx.fs.rename(from, VirtualFs.resolve(ctx.cwd, destination));
        return 0;
      }
      if (stat.kind === 'dir') {
        ctx.stderr.write(`cp: -r not specified; omitting directory '${source}'\n`);
        return 1;
      }
      let target = VirtualFs.resolve(ctx.cwd, destination);
      if (ctx.fs.isDir(target)) target = posix.join(target, posix.basename(source));
      ctx.fs.writeFile(target, ctx.fs.readFile(from), { mode: stat.mode });
      return 0;
    } catch (error) {
      ctx.stderr.write(
        `${program}: cannot create regular file '${destination}': ${fsMessage(error)}\n`,
      );
      return 1;
    }
  };
}

function touch(ctx: CommandContext): number {
  let status = 0;
  for (const file of ctx.argv.slice(1).filter((arg) => !arg.startsWith('-'))) {
    const path = VirtualFs.resolve(ctx.cwd, file);
    try {
      if (!ctx.fs.stat(path)) ctx.fs.writeFile(path, '');
    } catch (error) {
      ctx.stderr.write(`touch: cannot touch '${file}': ${fsMessage(error)}\n`);
      status = 1;
    }
  }
  return status;
}

/** grep's pattern as a RegExp: basic (GNU `\|` etc.), `-E` extended, `-F` fixed; `-x`, `-i`. */
function grepRegex(pattern: string, flags: Set<string>): RegExp | undefined {
  const source = flags.has('-F')
    ? pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    : flags.has('-E')
      ? pattern
      : pattern.replace(/\\([|(){}+?])/g, '$1');
  try {
    return new RegExp(flags.has('-x') ? `^(?:${source})$` : source, flags.has('-i') ? 'i' : '');
  } catch {
    return undefined;
  }
}

async function grep(ctx: CommandContext): Promise<number> {
  const options = splitOptions(ctx.argv.slice(1), ['-e']);
  if (typeof options === 'string') return usageError(ctx, 'grep', options, 2);
  const pattern = options.values.get('-e') ?? options.operands.shift();
  if (pattern === undefined) return usageError(ctx, 'grep', 'no pattern', 2);
  const flags = options.flags;
  const regex = grepRegex(pattern, flags);
  if (!regex) {
    ctx.stderr.write('grep: Invalid regular expression\n');
    return 2;
  }
  const inputs: Array<{ name: string; text: string }> = [];
  let status = 1;
  if (options.operands.length === 0)
    inputs.push({ name: '(standard input)', text: (await ctx.stdin.readAll()).toString() });
  for (const file of options.operands) {
    try {
      inputs.push({
        name: file,
        text: ctx.fs.readFile(VirtualFs.resolve(ctx.cwd, file)).toString(),
      });
    } catch (error) {
      if (!flags.has('-s')) ctx.stderr.write(`grep: ${file}: ${fsMessage(error)}\n`);
      status = 2;
    }
  }
  for (const input of inputs) {
    const lines = input.text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) {
      if (regex.test(line) === flags.has('-v')) continue;
      if (status !== 2) status = 0;
      if (flags.has('-q')) return 0;
      ctx.stdout.write(`${inputs.length > 1 ? `${input.name}:` : ''}${line}\n`);
    }
  }
  return status;
}

function which(ctx: CommandContext): number {
  let status = 0;
  for (const name of ctx.argv.slice(1).filter((arg) => !arg.startsWith('-'))) {
    if (ctx.system.has(name)) ctx.stdout.write(`/usr/bin/${name}\n`);
    else status = 1;
  }
  return status;
}

function hostname(machine: MachineInfo): Command {
  return (ctx) => {
    ctx.stdout.write(`${machine.hostname()}\n`);
    return 0;
  };
}

/** Every session is root, as Proximity's SSH user on a Proxmox node is. */
function whoami(ctx: CommandContext): number {
  ctx.stdout.write('root\n');
  return 0;
}

function id(ctx: CommandContext): number {
  ctx.stdout.write('uid=0(root) gid=0(root) groups=0(root)\n');
  return 0;
}

/** The kernel string of a Proxmox VE 8/9 node (containers share the host kernel). */
function uname(machine: MachineInfo): Command {
  return (ctx) => {
    const all = ctx.argv.includes('-a');
    ctx.stdout.write(
      all
        ? `Linux ${machine.hostname()} 6.8.12-4-pve #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-4 x86_64 GNU/Linux\n`
        : 'Linux\n',
    );
    return 0;
  };
}

/** Builds a machine's command; most ignore the machine, sleep/hostname/uname ask it. */
type CommandFactory = (machine: MachineInfo) => Command;

const machineless =
  (command: Command): CommandFactory =>
  () =>
    command;

/** Program name → implementation; a new program is one function plus one row here. */
const COREUTILS: ReadonlyArray<readonly [string, CommandFactory]> = [
  ['true', machineless(() => 0)],
  ['false', machineless(() => 1)],
  ['echo', machineless(echo)],
  ['printf', machineless(printf)],
  ['cat', machineless(cat)],
  ['tee', machineless(tee)],
  ['mkdir', machineless(mkdir)],
  ['rm', machineless(rm)],
  ['ls', machineless(ls)],
  ['test', machineless(test)],
  ['[', machineless(test)],
  ['sleep', sleep],
  ['env', machineless(env)],
  ['chmod', machineless(chmod)],
  ['install', machineless(install)],
  ['cp', machineless(copyOrMove('cp'))],
  ['mv', machineless(copyOrMove('mv'))],
  ['touch', machineless(touch)],
  ['grep', machineless(grep)],
  ['which', machineless(which)],
  ['hostname', hostname],
  ['whoami', machineless(whoami)],
  ['id', machineless(id)],
  ['uname', uname],
];

/** The coreutils/debianutils programs every simulated machine has. */
export function coreutils(machine: MachineInfo): Map<string, Command> {
  return new Map(COREUTILS.map(([name, factory]) => [name, factory(machine)]));
}
