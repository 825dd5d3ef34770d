/**
 * A POSIX shell tokenizer and parser for the subset of shell the simulator
 * executes: simple commands, quoting (single, double, backslash), pipelines,
 * `&&`, `||`, `;`, newlines, `!`, redirections (`>`, `>>`, `<`, `N>&M`,
 * here-documents), leading `NAME=value` assignments and `~`.
 *
 * Anything else (parameter expansion, command substitution, globbing is left
 * literal, compound commands, subshells, background jobs) is refused with an
 * error instead of being half-interpreted, so a caller can never depend on a
 * shell feature the simulator does not really implement.
 */

export class ShellSyntaxError extends Error {}

/** A feature a real shell has and the simulator deliberately does not implement. */
export class UnsupportedShellFeature extends ShellSyntaxError {
  constructor(feature: string) {
    super(`unsupported shell feature in the Proxmox VE simulator: ${feature}`);
  }
}

export type RedirectionOperator = '>' | '>>' | '>|' | '<' | '>&' | '<&' | '<<' | '<<-';

export interface Redirection {
  fd: number;
  operator: RedirectionOperator;
  /** File name, descriptor number, or the here-document's body. */
  target: string;
}

export interface Assignment {
  name: string;
  value: string;
}

export interface SimpleCommand {
  assignments: Assignment[];
  argv: string[];
  redirections: Redirection[];
}

export interface Pipeline {
  negated: boolean;
  commands: SimpleCommand[];
}

export interface AndOrList {
  pipelines: Pipeline[];
  operators: Array<'&&' | '||'>;
}

export type Script = AndOrList[];

interface WordToken {
  kind: 'word';
  text: string;
  quoted: boolean;
  assignable: boolean;
}
interface OperatorToken {
  kind: 'op';
  op: string;
}
interface IoNumberToken {
  kind: 'io';
  fd: number;
}
interface NewlineToken {
  kind: 'newline';
}
interface HeredocToken {
  kind: 'heredoc';
  op: '<<' | '<<-';
  body: string;
}
type Token = WordToken | OperatorToken | IoNumberToken | NewlineToken | HeredocToken;

const METACHARACTERS = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);
const EXPANSION_START = /[A-Za-z_{(0-9@*#?!$-]/;
const RESERVED_WORDS = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'case',
  'esac',
  'while',
  'until',
  'for',
  'in',
  '{',
  '}',
  'function',
  'select',
  '[[',
]);

function expansionFeature(next: string): string {
  if (next === '(') return 'command substitution $(…)';
  return 'parameter expansion ($…)';
}

interface PendingHeredoc {
  token: HeredocToken;
  delimiter: string;
  quoted: boolean;
  stripTabs: boolean;
}

class Lexer {
  private pos = 0;
  private readonly tokens: Token[] = [];
  private pendingHeredocs: PendingHeredoc[] = [];
  private expectingDelimiter: HeredocToken | null = null;

  constructor(
    private readonly src: string,
    private readonly home: string,
  ) {}

  run(): Token[] {
    const { src } = this;
    while (this.pos < src.length) {
      const c = src[this.pos];
      if (c === ' ' || c === '\t') {
        this.pos++;
      } else if (c === '\\' && src[this.pos + 1] === '\n') {
        this.pos += 2;
      } else if (c === '#') {
        while (this.pos < src.length && src[this.pos] !== '\n') this.pos++;
      } else if (this.expectingDelimiter && METACHARACTERS.has(c)) {
        throw new ShellSyntaxError(`Syntax error: ${c === '\n' ? 'newline' : `"${c}"`} unexpected`);
      } else if (c === '\n') {
        this.pos++;
        this.tokens.push({ kind: 'newline' });
        this.readHeredocBodies();
      } else if (METACHARACTERS.has(c)) {
        this.readOperator();
      } else {
        this.readWord();
      }
    }
    if (this.expectingDelimiter) throw new ShellSyntaxError('Syntax error: end of file unexpected');
    if (this.pendingHeredocs.length > 0) this.readHeredocBodies();
    return this.tokens;
  }

  private readOperator(): void {
    const { src } = this;
    const three = src.slice(this.pos, this.pos + 3);
    const two = src.slice(this.pos, this.pos + 2);
    const one = src[this.pos];
    let op: string;
    if (three === '<<-') op = three;
    else if (['&&', '||', ';;', '<<', '>>', '>&', '<&', '>|', '<>', '&>'].includes(two)) op = two;
    else op = one;
    this.pos += op.length;
    if (op === '&') throw new UnsupportedShellFeature('background jobs (&)');
    if (op === '(' || op === ')')
      throw new UnsupportedShellFeature('subshells and function definitions ( … )');
    if (op === '<>' || op === '&>') throw new UnsupportedShellFeature(`redirection ${op}`);
    if (op === ';;') throw new ShellSyntaxError('Syntax error: ";;" unexpected');
    if (op === '<<' || op === '<<-') {
      const token: HeredocToken = { kind: 'heredoc', op, body: '' };
      this.tokens.push(token);
      this.expectingDelimiter = token;
      return;
    }
    this.tokens.push({ kind: 'op', op });
  }

  private readWord(): void {
    const { src } = this;
    let text = '';
    let quoted = false;
    let sawQuoting = false;
    let assignable = false;
    const start = this.pos;
    if (src[this.pos] === '~') {
      const next = src[this.pos + 1];
      if (next === undefined || next === '/' || METACHARACTERS.has(next)) {
        text = this.home;
        this.pos++;
      }
    }
    while (this.pos < src.length) {
      const c = src[this.pos];
      if (METACHARACTERS.has(c)) break;
      if (c === '\\') {
        const next = src[this.pos + 1];
        if (next === '\n') {
          this.pos += 2;
          continue;
        }
        if (next === undefined) {
          text += '\\';
          this.pos++;
          continue;
        }
        text += next;
        quoted = sawQuoting = true;
        this.pos += 2;
      } else if (c === "'") {
        const end = src.indexOf("'", this.pos + 1);
        if (end < 0) throw new ShellSyntaxError('Syntax error: Unterminated quoted string');
        text += src.slice(this.pos + 1, end);
        quoted = sawQuoting = true;
        this.pos = end + 1;
      } else if (c === '"') {
        text += this.readDoubleQuoted();
        quoted = sawQuoting = true;
      } else if (c === '$') {
        const next = src[this.pos + 1] ?? '';
        if (EXPANSION_START.test(next)) throw new UnsupportedShellFeature(expansionFeature(next));
        text += c;
        this.pos++;
      } else if (c === '`') {
        throw new UnsupportedShellFeature('command substitution `…`');
      } else {
        if (c === '=' && !sawQuoting && !assignable && /^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) {
          assignable = true;
        }
        text += c;
        this.pos++;
      }
    }
    if (this.expectingDelimiter) {
      this.pendingHeredocs.push({
        token: this.expectingDelimiter,
        delimiter: text,
        quoted,
        stripTabs: this.expectingDelimiter.op === '<<-',
      });
      this.expectingDelimiter = null;
      return;
    }
    const nextChar = src[this.pos];
    if (
      !quoted &&
      /^\d+$/.test(text) &&
      (nextChar === '<' || nextChar === '>') &&
      this.pos - start === text.length
    ) {
      this.tokens.push({ kind: 'io', fd: Number(text) });
      return;
    }
    this.tokens.push({ kind: 'word', text, quoted, assignable });
  }

  private readDoubleQuoted(): string {
    const { src } = this;
    let text = '';
    this.pos++;
    while (this.pos < src.length) {
      const c = src[this.pos];
      if (c === '"') {
        this.pos++;
        return text;
      }
      if (c === '\\') {
        const next = src[this.pos + 1];
        if (next === '\n') {
          this.pos += 2;
          continue;
        }
        if (next === '$' || next === '`' || next === '"' || next === '\\') {
          text += next;
          this.pos += 2;
          continue;
        }
        text += c;
        this.pos++;
        continue;
      }
      if (c === '$') {
        const next = src[this.pos + 1] ?? '';
        if (EXPANSION_START.test(next)) throw new UnsupportedShellFeature(expansionFeature(next));
      }
      if (c === '`') throw new UnsupportedShellFeature('command substitution `…`');
      text += c;
      this.pos++;
    }
    throw new ShellSyntaxError('Syntax error: Unterminated quoted string');
  }

  private readHeredocBodies(): void {
    const { src } = this;
    for (const pending of this.pendingHeredocs) {
      let body = '';
      let terminated = false;
      while (this.pos < src.length) {
        const end = src.indexOf('\n', this.pos);
        const rawLine = end < 0 ? src.slice(this.pos) : src.slice(this.pos, end);
        this.pos = end < 0 ? src.length : end + 1;
        const line = pending.stripTabs ? rawLine.replace(/^\t+/, '') : rawLine;
        if (line === pending.delimiter) {
          terminated = true;
          break;
        }
        body += `${line}\n`;
      }
      if (!terminated && body === '' && this.pos >= src.length) body = '';
      pending.token.body = pending.quoted ? body : expandUnquotedHeredoc(body);
    }
    this.pendingHeredocs = [];
  }
}

/** An unquoted here-document delimiter allows expansions; only their absence is supported. */
function expandUnquotedHeredoc(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') {
      const next = body[i + 1];
      if (next === '$' || next === '`' || next === '\\') {
        out += next;
        i++;
        continue;
      }
      if (next === '\n') {
        i++;
        continue;
      }
    } else if (c === '$' && EXPANSION_START.test(body[i + 1] ?? '')) {
      throw new UnsupportedShellFeature(expansionFeature(body[i + 1]));
    } else if (c === '`') {
      throw new UnsupportedShellFeature('command substitution `…`');
    }
    out += c;
  }
  return out;
}

function describe(token: Token | undefined): string {
  if (!token) return 'end of file';
  if (token.kind === 'newline') return 'newline';
  if (token.kind === 'op') return token.op;
  if (token.kind === 'heredoc') return token.op;
  if (token.kind === 'io') return String(token.fd);
  return token.text;
}

class Parser {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): Script {
    const script: Script = [];
    this.skipNewlines();
    while (this.peek()) {
      script.push(this.parseAndOr());
      const separator = this.peek();
      if (!separator) break;
      if (separator.kind === 'newline' || (separator.kind === 'op' && separator.op === ';')) {
        this.index++;
        this.skipNewlines();
        continue;
      }
      throw this.unexpected(separator);
    }
    return script;
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }

  private skipNewlines(): void {
    while (this.peek()?.kind === 'newline') this.index++;
  }

  private unexpected(token: Token | undefined): ShellSyntaxError {
    if (!token) return new ShellSyntaxError('Syntax error: end of file unexpected');
    return new ShellSyntaxError(`Syntax error: "${describe(token)}" unexpected`);
  }

  private parseAndOr(): AndOrList {
    const list: AndOrList = { pipelines: [this.parsePipeline()], operators: [] };
    for (;;) {
      const token = this.peek();
      if (token?.kind !== 'op' || (token.op !== '&&' && token.op !== '||')) return list;
      this.index++;
      this.skipNewlines();
      list.operators.push(token.op);
      list.pipelines.push(this.parsePipeline());
    }
  }

  private parsePipeline(): Pipeline {
    let negated = false;
    const first = this.peek();
    if (first?.kind === 'word' && !first.quoted && first.text === '!') {
      negated = true;
      this.index++;
    }
    const pipeline: Pipeline = { negated, commands: [this.parseSimpleCommand()] };
    for (;;) {
      const token = this.peek();
      if (token?.kind !== 'op' || token.op !== '|') return pipeline;
      this.index++;
      this.skipNewlines();
      pipeline.commands.push(this.parseSimpleCommand());
    }
  }

  private parseSimpleCommand(): SimpleCommand {
    const command: SimpleCommand = { assignments: [], argv: [], redirections: [] };
    for (;;) {
      const token = this.peek();
      if (!token) break;
      if (
        token.kind === 'io' ||
        token.kind === 'heredoc' ||
        (token.kind === 'op' && isRedirection(token.op))
      ) {
        command.redirections.push(this.parseRedirection());
        continue;
      }
      if (token.kind !== 'word') break;
      this.index++;
      if (command.argv.length === 0) {
        if (token.assignable) {
          const eq = token.text.indexOf('=');
          command.assignments.push({
            name: token.text.slice(0, eq),
            value: token.text.slice(eq + 1),
          });
          continue;
        }
        if (!token.quoted && RESERVED_WORDS.has(token.text)) {
          throw new UnsupportedShellFeature(`compound command "${token.text}"`);
        }
      }
      command.argv.push(token.text);
    }
    if (
      command.argv.length === 0 &&
      command.assignments.length === 0 &&
      command.redirections.length === 0
    ) {
      throw this.unexpected(this.peek());
    }
    return command;
  }

  private parseRedirection(): Redirection {
    let fd: number | null = null;
    let token = this.peek();
    if (token?.kind === 'io') {
      fd = token.fd;
      this.index++;
      token = this.peek();
    }
    if (token?.kind === 'heredoc') {
      this.index++;
      return { fd: fd ?? 0, operator: token.op, target: token.body };
    }
    if (token?.kind !== 'op' || !isRedirection(token.op)) throw this.unexpected(token);
    this.index++;
    const target = this.peek();
    if (target?.kind !== 'word') throw this.unexpected(target);
    this.index++;
    const operator = token.op as RedirectionOperator;
    const defaultFd = operator === '<' || operator === '<&' ? 0 : 1;
    return { fd: fd ?? defaultFd, operator, target: target.text };
  }
}

function isRedirection(op: string): boolean {
  return op === '>' || op === '>>' || op === '>|' || op === '<' || op === '>&' || op === '<&';
}

export function parseShell(source: string, home = '/root'): Script {
  return new Parser(new Lexer(source, home).run()).parse();
}

/** POSIX single-quote quoting: the inverse of the tokenizer for one argument. */
export function quoteShellArgument(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
