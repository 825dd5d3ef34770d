import fc from 'fast-check';
import {
  parseShell,
  quoteShellArgument,
  ShellSyntaxError,
  UnsupportedShellFeature,
} from './shell-syntax';
import { formatPrintf } from './printf-format';

function argvOf(source: string): string[][] {
  return parseShell(source).flatMap((list) =>
    list.pipelines.flatMap((pipeline) => pipeline.commands.map((command) => command.argv)),
  );
}

describe('the shell tokenizer', () => {
  it('applies POSIX quoting rules', () => {
    expect(argvOf(`printf '%s\\n' 'a b' "c \\"d\\" \\$e" f\\ g 'it'\\''s' ""`)).toEqual([
      ['printf', '%s\\n', 'a b', 'c "d" $e', 'f g', "it's", ''],
    ]);
    expect(argvOf('echo a\\\nb')).toEqual([['echo', 'ab']]);
    expect(argvOf('echo ~ ~/x a~')).toEqual([['echo', '/root', '/root/x', 'a~']]);
    expect(argvOf('echo $ a$')).toEqual([['echo', '$', 'a$']]);
  });

  it('splits lists, pipelines and assignments', () => {
    const script = parseShell(
      'set -e; A=1 B="two words" env | grep A && echo ok || echo no\n# comment\n! false',
    );
    expect(script).toHaveLength(3);
    expect(script[1].operators).toEqual(['&&', '||']);
    expect(script[1].pipelines[0].commands[0]).toEqual({
      assignments: [
        { name: 'A', value: '1' },
        { name: 'B', value: 'two words' },
      ],
      argv: ['env'],
      redirections: [],
    });
    expect(script[2].pipelines[0].negated).toBe(true);
  });

  it('parses redirections and here-documents', () => {
    const [list] = parseShell("cat > /etc/x 2>&1 <<'EOF'\nline $1\n\tkept\nEOF\n");
    expect(list.pipelines[0].commands[0].redirections).toEqual([
      { fd: 1, operator: '>', target: '/etc/x' },
      { fd: 2, operator: '>&', target: '1' },
      { fd: 0, operator: '<<', target: 'line $1\n\tkept\n' },
    ]);
    const [stripped] = parseShell('cat <<-END\n\tindented\n\tEND\n');
    expect(stripped.pipelines[0].commands[0].redirections[0].target).toBe('indented\n');
  });

  it('refuses what it does not implement, naming the feature', () => {
    expect(() => parseShell('echo $HOME')).toThrow(UnsupportedShellFeature);
    expect(() => parseShell('echo "$(id)"')).toThrow('command substitution $(…)');
    expect(() => parseShell('echo `id`')).toThrow('command substitution `…`');
    expect(() => parseShell('sleep 1 &')).toThrow('background jobs (&)');
    expect(() => parseShell('(cd /tmp)')).toThrow('subshells');
    expect(() => parseShell('if true; then echo; fi')).toThrow('compound command "if"');
  });

  it('reports syntax errors with dash wording', () => {
    expect(() => parseShell("echo 'open")).toThrow(
      new ShellSyntaxError('Syntax error: Unterminated quoted string'),
    );
    expect(() => parseShell('| echo')).toThrow('Syntax error: "|" unexpected');
    expect(() => parseShell('echo >')).toThrow('Syntax error: end of file unexpected');
  });

  it('parses back any argument its quoting produced (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { minLength: 1, maxLength: 6 }),
        (args) => {
          expect(argvOf(`cmd ${args.map(quoteShellArgument).join(' ')}`)).toEqual([
            ['cmd', ...args],
          ]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('printf', () => {
  it('reuses the format for every argument and decodes escapes', () => {
    expect(formatPrintf('%s\\n', ['a', 'b']).output.toString()).toBe('a\nb\n');
    expect(formatPrintf('%s\\0', ['x']).output).toEqual(Buffer.from('x\0'));
    expect(formatPrintf('[%5s|%-3d|%03d|%x]', ['ab', '7', '5', '255']).output.toString()).toBe(
      '[   ab|7  |005|ff]',
    );
    expect(formatPrintf('%b', ['tab\\there']).output.toString()).toBe('tab\there');
    expect(formatPrintf('no args\\n', ['ignored']).output.toString()).toBe('no args\n');
    expect(formatPrintf('%d', ['abc']).errors).toEqual(["printf: 'abc': expected a numeric value"]);
  });
});
