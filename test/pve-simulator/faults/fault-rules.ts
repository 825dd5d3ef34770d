import { SeededRandom } from '../util/seeded-random';

/** A rule as `/_sim/faults` accepts it (see README.md, "Control routes"). */
export interface FaultRuleInput {
  method?: string;
  path?: string;
  sshCommand?: string;
  status?: number;
  message?: string;
  delayMs?: number;
  failTask?: string | boolean;
  dropConnection?: boolean;
  times?: number;
  probability?: number;
  /** Answer 200 with `{"data": data}` instead of what the route would answer. */
  data?: unknown;
  /** Append this many spaces to a 200 JSON answer: still valid, but as large as a test needs. */
  padBytes?: number;
}

export interface FaultRule extends FaultRuleInput {
  id: number;
  fired: number;
}

/** What a fired rule asks the HTTP or SSH side to do. */
export interface FaultAction {
  rule: FaultRule;
  delayMs: number;
  status: number | null;
  message: string | null;
  failTask: string | null;
  dropConnection: boolean;
  /** Present (even when null) when the rule replaces the answer's data. */
  data?: { value: unknown };
  padBytes: number;
}

const FIELDS = new Set([
  'method',
  'path',
  'sshCommand',
  'status',
  'message',
  'delayMs',
  'failTask',
  'dropConnection',
  'times',
  'probability',
  'data',
  'padBytes',
]);
const MAX_PAD_BYTES = 64 * 1024 * 1024;

function validateRule(input: unknown, index: number): FaultRuleInput | string {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    return `rules[${index}] must be an object`;
  const rule = input as Record<string, unknown>;
  for (const key of Object.keys(rule))
    if (!FIELDS.has(key)) return `rules[${index}]: unknown field '${key}'`;
  for (const key of ['method', 'path', 'sshCommand', 'message'] as const) {
    if (rule[key] !== undefined && typeof rule[key] !== 'string')
      return `rules[${index}].${key} must be a string`;
  }
  for (const key of ['path', 'sshCommand'] as const) {
    if (typeof rule[key] === 'string') {
      try {
        new RegExp(rule[key]);
      } catch {
        return `rules[${index}].${key} is not a valid regular expression`;
      }
    }
  }
  const integer = (key: string, min: number, max: number): string | undefined => {
    const value = rule[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      return `rules[${index}].${key} must be an integer between ${min} and ${max}`;
    return undefined;
  };
  const problem =
    integer('status', 0, 999) ??
    integer('delayMs', 0, 3_600_000) ??
    integer('times', 0, 1_000_000_000) ??
    integer('padBytes', 0, MAX_PAD_BYTES);
  if (problem) return problem;
  if (
    'data' in rule &&
    (rule.status !== undefined || rule.failTask !== undefined || rule.dropConnection === true)
  )
    return `rules[${index}].data cannot be combined with status, failTask or dropConnection`;
  if (
    rule.failTask !== undefined &&
    typeof rule.failTask !== 'string' &&
    typeof rule.failTask !== 'boolean'
  )
    return `rules[${index}].failTask must be a string or a boolean`;
  if (rule.dropConnection !== undefined && typeof rule.dropConnection !== 'boolean')
    return `rules[${index}].dropConnection must be a boolean`;
  if (
    rule.probability !== undefined &&
    (typeof rule.probability !== 'number' || rule.probability < 0 || rule.probability > 1)
  )
    return `rules[${index}].probability must be a number between 0 and 1`;
  return rule;
}

function matchesRequest(
  rule: FaultRule,
  compiled: { path?: RegExp },
  method: string,
  path: string,
): boolean {
  if (rule.sshCommand !== undefined) return false;
  if (rule.method !== undefined && rule.method.toUpperCase() !== method.toUpperCase()) return false;
  return compiled.path === undefined || compiled.path.test(path);
}

/**
 * Fault rules, tried in the order they were added: the first rule that
 * matches, has `times` left and wins its `probability` draw fires.
 */
export class FaultRules {
  private rules: FaultRule[] = [];
  private nextId = 1;
  private readonly compiled = new Map<number, { path?: RegExp; sshCommand?: RegExp }>();

  constructor(private readonly random: SeededRandom) {}

  add(body: unknown): FaultRule[] | string {
    if (
      body === null ||
      typeof body !== 'object' ||
      !Array.isArray((body as { rules?: unknown }).rules)
    )
      return 'body must be {"rules": [...]}';
    const inputs = (body as { rules: unknown[] }).rules;
    const validated: FaultRuleInput[] = [];
    for (const [index, input] of inputs.entries()) {
      const rule = validateRule(input, index);
      if (typeof rule === 'string') return rule;
      validated.push(rule);
    }
    const added = validated.map((input) => {
      const rule: FaultRule = { id: this.nextId++, ...input, fired: 0 };
      this.compiled.set(rule.id, {
        path: input.path === undefined ? undefined : new RegExp(input.path),
        sshCommand: input.sshCommand === undefined ? undefined : new RegExp(input.sshCommand),
      });
      return rule;
    });
    this.rules.push(...added);
    return added.map((rule) => ({ ...rule }));
  }

  list(): FaultRule[] {
    return this.rules.map((rule) => ({ ...rule }));
  }

  clear(): number {
    const count = this.rules.length;
    this.rules = [];
    this.compiled.clear();
    return count;
  }

  matchHttp(method: string, path: string): FaultAction | null {
    return this.fire((rule, compiled) => matchesRequest(rule, compiled, method, path));
  }

  /**
   * The `failTask` for the task an API method forks when another worker calls
   * it (vm_start after create or rollback with start=1): no HTTP request is
   * answered, so only rules that carry `failTask` apply.
   */
  matchNestedCall(method: string, path: string): string | null {
    const action = this.fire(
      (rule, compiled) =>
        rule.failTask !== undefined &&
        rule.failTask !== false &&
        matchesRequest(rule, compiled, method, path),
    );
    return action?.failTask ?? null;
  }

  matchSsh(command: string): FaultAction | null {
    return this.fire((rule, compiled) => {
      if (rule.method !== undefined || rule.path !== undefined) return false;
      return compiled.sshCommand === undefined || compiled.sshCommand.test(command);
    });
  }

  private fire(
    matches: (rule: FaultRule, compiled: { path?: RegExp; sshCommand?: RegExp }) => boolean,
  ): FaultAction | null {
    if (this.rules.length === 0) return null;
    for (const rule of this.rules) {
      if (rule.times !== undefined && rule.fired >= rule.times) continue;
      if (!matches(rule, this.compiled.get(rule.id) ?? {})) continue;
      if (rule.probability !== undefined && this.random.next() >= rule.probability) continue;
      rule.fired++;
      return {
        rule,
        delayMs: rule.delayMs ?? 0,
        status: rule.status ?? null,
        message: rule.message ?? null,
        failTask:
          rule.failTask === true
            ? 'simulated failure'
            : typeof rule.failTask === 'string'
              ? rule.failTask
              : null,
        dropConnection: rule.dropConnection === true,
        ...('data' in rule ? { data: { value: rule.data } } : {}),
        padBytes: rule.padBytes ?? 0,
      };
    }
    return null;
  }
}
