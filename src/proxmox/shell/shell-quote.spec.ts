import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { NodeShellError, NodeShellErrorKind } from './shell-errors';
import { quoteArgv } from './shell-quote';
import { argvArbitrary } from './testing/argv-arbitrary';

describe('quoteArgv', () => {
  it('single-quotes every argument and escapes single quotes', () => {
    expect(quoteArgv(['pct', 'exec', '101', '--', 'echo', "it's"])).toBe(
      `'pct' 'exec' '101' '--' 'echo' 'it'\\''s'`,
    );
    expect(quoteArgv([''])).toBe(`''`);
    expect(quoteArgv(['$(id)', '`id`', 'a;b', 'x\ny', '*', '"', '\\'])).toBe(
      `'$(id)' '\`id\`' 'a;b' 'x\ny' '*' '"' '\\'`,
    );
  });

  it('refuses NUL bytes and an empty argv', () => {
    for (const argv of [['a\0b'], [], ['ok', '\0']]) {
      let caught: unknown;
      try {
        quoteArgv(argv);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(NodeShellError);
      expect((caught as NodeShellError).kind).toBe(NodeShellErrorKind.InvalidInput);
    }
  });

  it('gives back the same argv through a real POSIX shell (property)', () => {
    fc.assert(
      fc.property(argvArbitrary, (args) => {
        const script = quoteArgv(['printf', '%s\\0', ...args]);
        const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
        expect(out).toBe(args.map((arg) => `${arg}\0`).join(''));
      }),
      { numRuns: 100 },
    );
  });
});
