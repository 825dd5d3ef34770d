import { isIPv4 } from 'node:net';

/**
 * A node's nftables ruleset, for the small, faithful subset of `nft` that
 * port forwarding needs (see README.md, "Node commands"). DNAT rules in a
 * `type nat hook prerouting` chain are what the simulator turns into real
 * listeners on 127.0.0.1:<dport>.
 */

type Family = 'ip' | 'inet';

interface Matchers {
  daddr?: string;
  saddr?: string;
  iifname?: string;
  oifname?: string;
  protocol?: 'tcp' | 'udp';
  dport?: number;
}

export type RuleStatement =
  | { kind: 'dnat'; addr: string; port: number | null }
  | { kind: 'masquerade' }
  | { kind: 'accept' }
  | { kind: 'drop' }
  | { kind: 'return' };

export interface NftRule {
  handle: number;
  matchers: Matchers;
  counter: boolean;
  statement: RuleStatement;
  comment: string | null;
}

export interface NftChain {
  name: string;
  handle: number;
  base: { type: string; hook: string; priority: number; policy: string } | null;
  rules: NftRule[];
}

export interface NftTable {
  family: Family;
  name: string;
  handle: number;
  nextHandle: number;
  chains: NftChain[];
}

export interface DnatForward {
  publicPort: number;
  protocol: 'tcp' | 'udp';
  targetAddress: string;
  targetPort: number;
  comment: string | null;
}

export interface NftResult {
  status: number;
  stdout: string;
  stderr: string;
  changed: boolean;
}

class NftError extends Error {}

const PRIORITY_NAMES: Readonly<Record<string, number>> = {
  raw: -300,
  mangle: -150,
  dstnat: -100,
  filter: 0,
  security: 50,
  srcnat: 100,
};
const HOOKS = new Set(['prerouting', 'input', 'forward', 'output', 'postrouting']);
const CHAIN_TYPES = new Set(['filter', 'nat', 'route']);

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '{' || c === '}' || c === ';') {
      tokens.push(c);
      i++;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new NftError('syntax error, unterminated string');
      tokens.push(text.slice(i, end + 1));
      i = end + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s{};"]/.test(text[j])) j++;
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

function unquote(token: string): string {
  return token.startsWith('"') && token.endsWith('"') ? token.slice(1, -1) : token;
}

function priorityText(priority: number): string {
  for (const [name, value] of Object.entries(PRIORITY_NAMES)) if (value === priority) return name;
  return String(priority);
}

function ruleText(rule: NftRule, family: Family): string {
  const parts: string[] = [];
  const m = rule.matchers;
  if (m.iifname) parts.push(`iifname "${m.iifname}"`);
  if (m.oifname) parts.push(`oifname "${m.oifname}"`);
  if (m.saddr) parts.push(`ip saddr ${m.saddr}`);
  if (m.daddr) parts.push(`ip daddr ${m.daddr}`);
  if (m.protocol && m.dport !== undefined) parts.push(`${m.protocol} dport ${m.dport}`);
  if (rule.counter) parts.push('counter packets 0 bytes 0');
  const s = rule.statement;
  if (s.kind === 'dnat')
    parts.push(
      `dnat ${family === 'inet' ? 'ip ' : ''}to ${s.addr}${s.port === null ? '' : `:${s.port}`}`,
    );
  else parts.push(s.kind);
  if (rule.comment !== null) parts.push(`comment "${rule.comment}"`);
  return parts.join(' ');
}

function addressJson(address: string): unknown {
  const [addr, len] = address.split('/');
  return len === undefined ? addr : { prefix: { addr, len: Number(len) } };
}

function ruleExpressions(rule: NftRule, family: Family): unknown[] {
  const expr: unknown[] = [];
  const m = rule.matchers;
  const match = (left: unknown, right: unknown): unknown => ({ match: { op: '==', left, right } });
  if (m.iifname) expr.push(match({ meta: { key: 'iifname' } }, m.iifname));
  if (m.oifname) expr.push(match({ meta: { key: 'oifname' } }, m.oifname));
  if (m.saddr)
    expr.push(match({ payload: { protocol: 'ip', field: 'saddr' } }, addressJson(m.saddr)));
  if (m.daddr)
    expr.push(match({ payload: { protocol: 'ip', field: 'daddr' } }, addressJson(m.daddr)));
  if (m.protocol && m.dport !== undefined)
    expr.push(match({ payload: { protocol: m.protocol, field: 'dport' } }, m.dport));
  if (rule.counter) expr.push({ counter: { packets: 0, bytes: 0 } });
  const s = rule.statement;
  if (s.kind === 'dnat') {
    const dnat: Record<string, unknown> =
      family === 'inet' ? { family: 'ip', addr: s.addr } : { addr: s.addr };
    if (s.port !== null) dnat.port = s.port;
    expr.push({ dnat });
  } else {
    expr.push({ [s.kind]: null });
  }
  return expr;
}

function parsePort(token: string | undefined): number {
  if (token === undefined || !/^\d+$/.test(token) || Number(token) < 1 || Number(token) > 65535) {
    throw new NftError(`syntax error, unexpected ${token ?? 'end of file'}`);
  }
  return Number(token);
}

function parseAddress(token: string | undefined, allowPrefix: boolean): string {
  const [addr, len, extra] = (token ?? '').split('/');
  const validLength = len === undefined || (allowPrefix && /^\d+$/.test(len) && Number(len) <= 32);
  if (!isIPv4(addr) || !validLength || extra !== undefined) {
    throw new NftError(`syntax error, unexpected ${token ?? 'end of file'}`);
  }
  return token as string;
}

export class NftRuleset {
  private tables: NftTable[] = [];
  private nextTableHandle = 1;

  clear(): void {
    this.tables = [];
  }

  /** Runs `nft ARGS…` (already split into argv by the shell). */
  execute(argv: readonly string[]): NftResult {
    const options = new Set<string>();
    let i = 0;
    for (; i < argv.length && argv[i].startsWith('-'); i++) {
      const arg = argv[i];
      const long: Record<string, string> = {
        '--json': '-j',
        '--handle': '-a',
        '--echo': '-e',
        '--numeric': '-n',
        '--stateless': '-s',
        '--check': '-c',
        '--file': '-f',
      };
      if (long[arg]) options.add(long[arg]);
      else for (const flag of arg.slice(1)) options.add(`-${flag}`);
    }
    const text = argv.slice(i).join(' ');
    if (options.has('-f'))
      return {
        status: 1,
        stdout: '',
        stderr:
          'Error: nft -f is not supported by the Proxmox VE simulator; run one nft command per rule\n',
        changed: false,
      };
    if (text.trim() === '')
      return { status: 1, stdout: '', stderr: 'Error: no command specified\n', changed: false };
    try {
      const snapshot = JSON.stringify(this.toJSON());
      const output = this.run(tokenize(text), options, text);
      const changed = JSON.stringify(this.toJSON()) !== snapshot;
      if (options.has('-c')) {
        this.restore(JSON.parse(snapshot) as ReturnType<NftRuleset['toJSON']>);
        return { status: 0, stdout: '', stderr: '', changed: false };
      }
      return { status: 0, stdout: output, stderr: '', changed };
    } catch (error) {
      if (!(error instanceof NftError)) throw error;
      return {
        status: 1,
        stdout: '',
        stderr: `Error: ${error.message}\n${text}\n`,
        changed: false,
      };
    }
  }

  /** DNAT rules in `nat` base chains hooked at prerouting, each a forwarded public port. */
  forwards(): DnatForward[] {
    const result: DnatForward[] = [];
    for (const table of this.tables) {
      for (const chain of table.chains) {
        if (
          chain.base?.type !== 'nat' ||
          (chain.base.hook !== 'prerouting' && chain.base.hook !== 'output')
        )
          continue;
        for (const rule of chain.rules) {
          const s = rule.statement;
          if (s.kind !== 'dnat' || !rule.matchers.protocol || rule.matchers.dport === undefined)
            continue;
          if (
            result.some(
              (f) => f.publicPort === rule.matchers.dport && f.protocol === rule.matchers.protocol,
            )
          )
            continue;
          result.push({
            publicPort: rule.matchers.dport,
            protocol: rule.matchers.protocol,
            targetAddress: s.addr,
            targetPort: s.port ?? rule.matchers.dport,
            comment: rule.comment,
          });
        }
      }
    }
    return result;
  }

  private findTable(family: Family, name: string): NftTable {
    const table = this.tables.find((t) => t.family === family && t.name === name);
    if (!table) throw new NftError('Could not process rule: No such file or directory');
    return table;
  }

  private findChain(table: NftTable, name: string): NftChain {
    const chain = table.chains.find((c) => c.name === name);
    if (!chain) throw new NftError('Could not process rule: No such file or directory');
    return chain;
  }

  private run(tokens: string[], options: Set<string>, text: string): string {
    let pos = 0;
    const next = (): string | undefined => tokens[pos++];
    const expect = (what: string): string => {
      const token = next();
      if (token === undefined)
        throw new NftError(`syntax error, unexpected end of file, expecting ${what}`);
      return token;
    };
    const family = (): Family => {
      const token = tokens[pos];
      if (token === 'ip' || token === 'inet') {
        pos++;
        return token;
      }
      if (token === 'ip6' || token === 'arp' || token === 'bridge' || token === 'netdev')
        throw new NftError(
          `family ${token} is not supported by the Proxmox VE simulator (use ip or inet)`,
        );
      return 'ip';
    };
    const verb = expect('command');
    const object = verb === 'flush' && tokens[pos] === 'ruleset' ? next() : expect('object');
    const echo = (line: string, handle?: number): string =>
      options.has('-e')
        ? `${line}${options.has('-a') && handle !== undefined ? ` # handle ${handle}` : ''}\n`
        : '';

    switch (`${verb} ${object}`) {
      case 'add table':
      case 'create table': {
        const fam = family();
        const name = expect('table name');
        if (pos < tokens.length) throw new NftError(`syntax error, unexpected ${tokens[pos]}`);
        const existing = this.tables.find((t) => t.family === fam && t.name === name);
        if (existing) {
          if (verb === 'create') throw new NftError('Could not process rule: File exists');
          return '';
        }
        const table: NftTable = {
          family: fam,
          name,
          handle: this.nextTableHandle++,
          nextHandle: 1,
          chains: [],
        };
        this.tables.push(table);
        return echo(`add table ${fam} ${name}`, table.handle);
      }
      case 'add chain':
      case 'create chain': {
        const fam = family();
        const table = this.findTable(fam, expect('table name'));
        const name = expect('chain name');
        let base: NftChain['base'] = null;
        if (tokens[pos] === '{') {
          pos++;
          const spec: Record<string, string> = {};
          while (tokens[pos] !== '}') {
            const key = expect('chain specification');
            if (key === ';') continue;
            if (key === 'priority') {
              let value = expect('priority');
              if (tokens[pos] === '+' || tokens[pos] === '-')
                value += expect('sign') + expect('offset');
              spec.priority = value;
            } else if (key === 'type' || key === 'hook' || key === 'policy' || key === 'device') {
              spec[key] = expect(key);
            } else {
              throw new NftError(`syntax error, unexpected ${key}`);
            }
          }
          pos++;
          if (!spec.type || !spec.hook || spec.priority === undefined)
            throw new NftError('syntax error, base chain needs type, hook and priority');
          if (!CHAIN_TYPES.has(spec.type)) throw new NftError(`unknown chain type ${spec.type}`);
          if (!HOOKS.has(spec.hook)) throw new NftError(`unknown chain hook ${spec.hook}`);
          const prioMatch = /^([a-z]+)?([+-]?\d+)?$/.exec(spec.priority.replace(/\s/g, ''));
          if (!prioMatch || (prioMatch[1] && PRIORITY_NAMES[prioMatch[1]] === undefined))
            throw new NftError(`'${spec.priority}' is not a valid priority`);
          const priority =
            (prioMatch[1] ? PRIORITY_NAMES[prioMatch[1]] : 0) + Number(prioMatch[2] ?? 0);
          const policy = spec.policy ?? 'accept';
          if (policy !== 'accept' && policy !== 'drop')
            throw new NftError(`policy ${policy} is not valid`);
          base = { type: spec.type, hook: spec.hook, priority, policy };
        }
        if (pos < tokens.length) throw new NftError(`syntax error, unexpected ${tokens[pos]}`);
        const existing = table.chains.find((c) => c.name === name);
        if (existing) {
          if (verb === 'create') throw new NftError('Could not process rule: File exists');
          if (
            base &&
            existing.base &&
            (existing.base.type !== base.type || existing.base.hook !== base.hook)
          )
            throw new NftError('Could not process rule: Device or resource busy');
          if (base && !existing.base) existing.base = base;
          return '';
        }
        const chain: NftChain = { name, handle: table.nextHandle++, base, rules: [] };
        table.chains.push(chain);
        return echo(`add chain ${fam} ${table.name} ${name}`, chain.handle);
      }
      case 'add rule':
      case 'insert rule': {
        const fam = family();
        const table = this.findTable(fam, expect('table name'));
        const chain = this.findChain(table, expect('chain name'));
        let anchor: number | null = null;
        if (tokens[pos] === 'position' || tokens[pos] === 'handle' || tokens[pos] === 'index') {
          pos++;
          anchor = parsePort(expect('handle'));
        }
        const rule = this.parseRule(tokens.slice(pos), chain);
        rule.handle = table.nextHandle++;
        let index = verb === 'add' ? chain.rules.length : 0;
        if (anchor !== null) {
          const at = chain.rules.findIndex((r) => r.handle === anchor);
          if (at < 0) throw new NftError('Could not process rule: No such file or directory');
          index = verb === 'add' ? at + 1 : at;
        }
        chain.rules.splice(index, 0, rule);
        return echo(
          `add rule ${fam} ${table.name} ${chain.name} ${ruleText(rule, fam)}`,
          rule.handle,
        );
      }
      case 'delete rule': {
        const fam = family();
        const table = this.findTable(fam, expect('table name'));
        const chain = this.findChain(table, expect('chain name'));
        if (expect('handle') !== 'handle') throw new NftError('syntax error, expecting handle');
        const handle = parsePort(expect('handle number'));
        const index = chain.rules.findIndex((r) => r.handle === handle);
        if (index < 0) throw new NftError('Could not process rule: No such file or directory');
        chain.rules.splice(index, 1);
        return '';
      }
      case 'delete chain': {
        const fam = family();
        const table = this.findTable(fam, expect('table name'));
        const chain = this.findChain(table, expect('chain name'));
        if (chain.rules.length > 0)
          throw new NftError('Could not process rule: Device or resource busy');
        table.chains = table.chains.filter((c) => c !== chain);
        return '';
      }
      case 'delete table':
      case 'destroy table': {
        const fam = family();
        const name = expect('table name');
        const table = this.tables.find((t) => t.family === fam && t.name === name);
        if (!table) {
          if (verb === 'destroy') return '';
          throw new NftError('Could not process rule: No such file or directory');
        }
        this.tables = this.tables.filter((t) => t !== table);
        return '';
      }
      case 'flush chain': {
        const fam = family();
        const table = this.findTable(fam, expect('table name'));
        this.findChain(table, expect('chain name')).rules = [];
        return '';
      }
      case 'flush table': {
        const fam = family();
        for (const chain of this.findTable(fam, expect('table name')).chains) chain.rules = [];
        return '';
      }
      case 'flush ruleset':
        this.tables = [];
        return '';
      case 'list ruleset':
        return this.render(this.tables, null, options);
      case 'list tables':
        if (options.has('-j'))
          return `${JSON.stringify({ nftables: [this.metainfo(), ...this.tables.map((t) => ({ table: { family: t.family, name: t.name, handle: t.handle } }))] })}\n`;
        return this.tables.map((t) => `table ${t.family} ${t.name}\n`).join('');
      case 'list table': {
        const fam = family();
        const table = this.findTable(fam, expect('table name'));
        return this.render([table], null, options);
      }
      case 'list chain': {
        const fam = family();
        const table = this.findTable(fam, expect('table name'));
        const chain = this.findChain(table, expect('chain name'));
        return this.render([table], chain, options);
      }
      default:
        throw new NftError(
          `syntax error, unexpected ${verb === 'add' || verb === 'delete' || verb === 'list' || verb === 'flush' || verb === 'create' || verb === 'insert' ? object : verb} (in: ${text})`,
        );
    }
  }

  private parseRule(tokens: string[], chain: NftChain): NftRule {
    const matchers: Matchers = {};
    let counter = false;
    let statement: RuleStatement | null = null;
    let comment: string | null = null;
    let pos = 0;
    const next = (): string | undefined => tokens[pos++];
    while (pos < tokens.length) {
      const token = next() as string;
      if (statement && token !== 'comment') throw new NftError(`syntax error, unexpected ${token}`);
      switch (token) {
        case 'ip': {
          const field = next();
          if (field === 'daddr') matchers.daddr = parseAddress(next(), true);
          else if (field === 'saddr') matchers.saddr = parseAddress(next(), true);
          else throw new NftError(`syntax error, unexpected ${field ?? 'end of file'}`);
          break;
        }
        case 'iifname':
        case 'oifname': {
          const value = next();
          if (value === undefined) throw new NftError('syntax error, unexpected end of file');
          matchers[token] = unquote(value);
          break;
        }
        case 'tcp':
        case 'udp':
          if (next() !== 'dport')
            throw new NftError(
              `syntax error, only "${token} dport" matches are supported by the Proxmox VE simulator`,
            );
          matchers.protocol = token;
          matchers.dport = parsePort(next());
          break;
        case 'counter':
          counter = true;
          break;
        case 'dnat': {
          let to = next();
          if (to === 'ip') to = next();
          if (to !== 'to')
            throw new NftError(`syntax error, unexpected ${to ?? 'end of file'}, expecting to`);
          const target = next() ?? '';
          const [addr, portText] = target.split(':');
          parseAddress(addr, false);
          const port = portText === undefined ? null : parsePort(portText);
          if (port !== null && !matchers.protocol)
            throw new NftError(
              'transport protocol mapping is only valid after transport protocol match',
            );
          if (chain.base?.type !== 'nat')
            throw new NftError('Could not process rule: Operation not supported');
          if (chain.base.hook !== 'prerouting' && chain.base.hook !== 'output')
            throw new NftError('Could not process rule: Operation not supported');
          statement = { kind: 'dnat', addr, port };
          break;
        }
        case 'masquerade':
          if (chain.base?.type !== 'nat' || chain.base.hook !== 'postrouting')
            throw new NftError('Could not process rule: Operation not supported');
          statement = { kind: 'masquerade' };
          break;
        case 'accept':
        case 'drop':
        case 'return':
          statement = { kind: token };
          break;
        case 'comment': {
          const value = next();
          if (value === undefined) throw new NftError('syntax error, unexpected end of file');
          comment = unquote(value);
          if (pos < tokens.length) throw new NftError(`syntax error, unexpected ${tokens[pos]}`);
          break;
        }
        default:
          throw new NftError(`syntax error, unexpected ${token}`);
      }
    }
    if (!statement && !counter && Object.keys(matchers).length === 0)
      throw new NftError('syntax error, unexpected end of file');
    return { handle: 0, matchers, counter, statement: statement ?? { kind: 'accept' }, comment };
  }

  private metainfo(): unknown {
    return {
      metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 },
    };
  }

  private render(tables: NftTable[], onlyChain: NftChain | null, options: Set<string>): string {
    const withHandles = options.has('-a');
    if (options.has('-j')) {
      const items: unknown[] = [this.metainfo()];
      for (const table of tables) {
        items.push({ table: { family: table.family, name: table.name, handle: table.handle } });
        for (const chain of table.chains) {
          if (onlyChain && chain !== onlyChain) continue;
          const chainJson: Record<string, unknown> = {
            family: table.family,
            table: table.name,
            name: chain.name,
            handle: chain.handle,
          };
          if (chain.base)
            Object.assign(chainJson, {
              type: chain.base.type,
              hook: chain.base.hook,
              prio: chain.base.priority,
              policy: chain.base.policy,
            });
          items.push({ chain: chainJson });
        }
        for (const chain of table.chains) {
          if (onlyChain && chain !== onlyChain) continue;
          for (const rule of chain.rules) {
            const ruleJson: Record<string, unknown> = {
              family: table.family,
              table: table.name,
              chain: chain.name,
              handle: rule.handle,
            };
            if (rule.comment !== null) ruleJson.comment = rule.comment;
            ruleJson.expr = ruleExpressions(rule, table.family);
            items.push({ rule: ruleJson });
          }
        }
      }
      return `${JSON.stringify({ nftables: items })}\n`;
    }
    let out = '';
    for (const table of tables) {
      out += `table ${table.family} ${table.name} {${withHandles ? ` # handle ${table.handle}` : ''}\n`;
      for (const chain of table.chains) {
        if (onlyChain && chain !== onlyChain) continue;
        out += `\tchain ${chain.name} {${withHandles ? ` # handle ${chain.handle}` : ''}\n`;
        if (chain.base)
          out += `\t\ttype ${chain.base.type} hook ${chain.base.hook} priority ${priorityText(chain.base.priority)}; policy ${chain.base.policy};\n`;
        for (const rule of chain.rules)
          out += `\t\t${ruleText(rule, table.family)}${withHandles ? ` # handle ${rule.handle}` : ''}\n`;
        out += '\t}\n';
      }
      out += '}\n';
    }
    return out;
  }

  toJSON(): { tables: NftTable[]; nextTableHandle: number } {
    return { tables: structuredClone(this.tables), nextTableHandle: this.nextTableHandle };
  }

  static fromJSON(data: { tables: NftTable[]; nextTableHandle: number }): NftRuleset {
    const ruleset = new NftRuleset();
    ruleset.restore(data);
    return ruleset;
  }

  private restore(data: { tables: NftTable[]; nextTableHandle: number }): void {
    this.tables = structuredClone(data.tables);
    this.nextTableHandle = data.nextTableHandle;
  }
}
