import { VirtualFs } from '../state/virtual-fs';
import type { Command, ShellDialect } from './shell-interpreter';

/**
 * `sh` / `bash`: `-c SCRIPT`, a script file, or a script read from stdin
 * (as in `curl … | sh`), with `-e` and `-x`.
 */
export function shellCommand(dialect: ShellDialect): Command {
  return async (ctx) => {
    const name = dialect === 'bash' ? 'bash' : 'sh';
    const args = ctx.argv.slice(1);
    let command = false;
    let errexit = false;
    let xtrace = false;
    let i = 0;
    for (; i < args.length; i++) {
      const arg = args[i];
      if (arg === '--') {
        i++;
        break;
      }
      if (!/^-[a-zA-Z]+$/.test(arg)) break;
      for (const flag of arg.slice(1)) {
        if (flag === 'c') command = true;
        else if (flag === 'e') errexit = true;
        else if (flag === 'x') xtrace = true;
        else if (flag !== 'l' && flag !== 's' && flag !== 'u') {
          ctx.stderr.write(`${name}: 0: Illegal option -${flag}\n`);
          return 2;
        }
      }
    }
    let source: string;
    if (command) {
      const script = args[i];
      if (script === undefined) {
        ctx.stderr.write(`${name}: 0: -c requires an argument\n`);
        return 2;
      }
      source = script;
    } else if (args[i] !== undefined) {
      const file = args[i];
      try {
        source = ctx.fs.readFile(VirtualFs.resolve(ctx.cwd, file)).toString();
      } catch {
        ctx.stderr.write(
          dialect === 'bash'
            ? `bash: ${file}: No such file or directory\n`
            : `sh: 0: cannot open ${file}: No such file\n`,
        );
        return dialect === 'bash' ? 127 : 2;
      }
    } else {
      source = (await ctx.stdin.readAll()).toString();
    }
    return ctx.system.runScript(source, ctx, {
      env: ctx.env,
      cwd: ctx.cwd,
      dialect,
      errexit,
      xtrace,
    });
  };
}
