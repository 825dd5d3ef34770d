import type { Command } from './shell-interpreter';
import { formatPrintf } from './printf-format';

/** dash's builtin echo: escapes always interpreted, only `-n` understood. */
export const dashEcho: Command = (ctx) => {
  let args = ctx.argv.slice(1);
  let newline = true;
  if (args[0] === '-n') {
    newline = false;
    args = args.slice(1);
  }
  const decoded = formatPrintf('%b', [args.join(' ')]).output;
  ctx.stdout.write(newline ? Buffer.concat([decoded, Buffer.from('\n')]) : decoded);
  return 0;
};
