import { parseDocument } from 'yaml';

/** One published port as Docker would bind it on the container's (LXC) address. */
export interface PortMapping {
  /** null: all addresses of the LXC (reachable through its IP). */
  hostIp: string | null;
  /** Host ports to choose from; null: an ephemeral port Docker picks. */
  published: { from: number; to: number } | null;
  target: number;
  protocol: 'tcp' | 'udp';
}

export interface ComposeServiceSpec {
  name: string;
  image: string | null;
  ports: PortMapping[];
}

export interface ComposeModel {
  name: string | null;
  services: ComposeServiceSpec[];
  warnings: string[];
}

export class ComposeError extends Error {}

const VARIABLE = /\$(?:\$|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `$VAR` and `$$`. */
export function interpolate(
  value: string,
  env: Readonly<Record<string, string>>,
  warnings: string[],
): string {
  return value.replace(VARIABLE, (match, braced: string | undefined, bare: string | undefined) => {
    if (match === '$$') return '$';
    const expression = braced ?? bare ?? '';
    const parsed = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])(.*))?$/s.exec(expression);
    if (!parsed) throw new ComposeError(`invalid interpolation format for "${value}"`);
    const [, name, colon, operator, argument = ''] = parsed;
    const current = env[name];
    const unset = current === undefined || (colon === ':' && current === '');
    if (operator === '-') return unset ? argument : current;
    if (operator === '?') {
      if (unset)
        throw new ComposeError(`required variable ${name} is missing a value: ${argument}`);
      return current;
    }
    if (operator === '+') return unset ? '' : argument;
    if (current === undefined) {
      warnings.push(`The "${name}" variable is not set. Defaulting to a blank string.`);
      return '';
    }
    return current;
  });
}

/** `KEY=value` lines as Compose reads them (comments, blank lines, optional quotes). */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2];
    if (/^"(.*)"$/s.test(value))
      value = value.slice(1, -1).replace(/\\n/g, '\n').replace(/\\"/g, '"');
    else if (/^'(.*)'$/s.test(value)) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, '');
    env[match[1]] = value;
  }
  return env;
}

function interpolateTree(
  node: unknown,
  env: Readonly<Record<string, string>>,
  warnings: string[],
): unknown {
  if (typeof node === 'string') return interpolate(node, env, warnings);
  if (Array.isArray(node)) return node.map((item) => interpolateTree(item, env, warnings));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node))
      out[key] = interpolateTree(value, env, warnings);
    return out;
  }
  return node;
}

function parsePortNumber(text: string, spec: string): number {
  if (!/^\d+$/.test(text)) throw new ComposeError(`invalid port specification: "${spec}"`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw new ComposeError(`invalid port specification: "${spec}"`);
  return port;
}

function parseRange(text: string, spec: string): { from: number; to: number } {
  const [from, to = from] = text.split('-');
  const range = { from: parsePortNumber(from, spec), to: parsePortNumber(to, spec) };
  if (range.to < range.from) throw new ComposeError(`invalid port specification: "${spec}"`);
  return range;
}

function parseProtocol(text: string | undefined, spec: string): 'tcp' | 'udp' {
  if (text === undefined || text === 'tcp') return 'tcp';
  if (text === 'udp') return 'udp';
  throw new ComposeError(`invalid port specification: "${spec}"`);
}

/** Short syntax: `[[IP:](HOST|RANGE):](CONTAINER|RANGE)[/PROTOCOL]`. */
export function parseShortPort(spec: string): PortMapping[] {
  const [addressPart, protocolText] = spec.split('/');
  const protocol = parseProtocol(protocolText, spec);
  let hostIp: string | null = null;
  let rest = addressPart;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  if (bracketed) {
    hostIp = bracketed[1];
    rest = bracketed[2];
  }
  const parts = rest.split(':');
  if (!bracketed && parts.length === 3) hostIp = parts.shift() ?? null;
  if (parts.length > 2 || parts.length === 0)
    throw new ComposeError(`invalid port specification: "${spec}"`);
  const targetRange = parseRange(parts[parts.length - 1], spec);
  const hostText = parts.length === 2 ? parts[0] : '';
  const hostRange = hostText === '' ? null : parseRange(hostText, spec);
  const count = targetRange.to - targetRange.from + 1;
  if (hostRange && count > 1 && hostRange.to - hostRange.from + 1 !== count) {
    throw new ComposeError(`invalid port specification: "${spec}"`);
  }
  const mappings: PortMapping[] = [];
  for (let i = 0; i < count; i++) {
    let published: PortMapping['published'] = null;
    if (hostRange)
      published = count > 1 ? { from: hostRange.from + i, to: hostRange.from + i } : hostRange;
    mappings.push({
      hostIp: hostIp === '' || hostIp === '0.0.0.0' ? null : hostIp,
      published,
      target: targetRange.from + i,
      protocol,
    });
  }
  return mappings;
}

function parseLongPort(entry: Record<string, unknown>, where: string): PortMapping {
  const target = entry.target;
  const targetText = typeof target === 'number' || typeof target === 'string' ? String(target) : '';
  if (targetText === '') throw new ComposeError(`${where}.target is required`);
  const published = entry.published;
  const publishedText =
    typeof published === 'number' || typeof published === 'string' ? String(published) : '';
  const hostIp =
    typeof entry.host_ip === 'string' && entry.host_ip !== '0.0.0.0' ? entry.host_ip : null;
  return {
    hostIp,
    published: publishedText === '' ? null : parseRange(publishedText, publishedText),
    target: parsePortNumber(targetText, targetText),
    protocol: parseProtocol(typeof entry.protocol === 'string' ? entry.protocol : undefined, where),
  };
}

/** Parses a compose file the way `docker compose` reads it, keeping what the simulator needs. */
export function parseComposeFile(
  text: string,
  env: Readonly<Record<string, string>>,
): ComposeModel {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    const error = document.errors[0];
    const line = error.linePos?.[0]?.line;
    throw new ComposeError(
      `yaml: ${line === undefined ? '' : `line ${line}: `}${error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
    );
  }
  const warnings: string[] = [];
  const root = interpolateTree(document.toJS(), env, warnings);
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw new ComposeError('Top-level object must be a mapping');
  }
  const top = root as Record<string, unknown>;
  const servicesNode = top.services;
  if (servicesNode === undefined || servicesNode === null)
    throw new ComposeError('no service selected');
  if (typeof servicesNode !== 'object' || Array.isArray(servicesNode)) {
    throw new ComposeError('services must be a mapping');
  }
  const services: ComposeServiceSpec[] = [];
  for (const [name, value] of Object.entries(servicesNode as Record<string, unknown>)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new ComposeError(`services.${name} must be a mapping`);
    }
    const service = value as Record<string, unknown>;
    const image = typeof service.image === 'string' ? service.image : null;
    if (image === null && service.build === undefined) {
      throw new ComposeError(
        `service "${name}" has neither an image nor a build context specified: invalid compose project`,
      );
    }
    const ports: PortMapping[] = [];
    const portsNode = service.ports ?? [];
    if (!Array.isArray(portsNode)) throw new ComposeError(`services.${name}.ports must be a list`);
    portsNode.forEach((entry: unknown, index) => {
      if (typeof entry === 'number' || typeof entry === 'string')
        ports.push(...parseShortPort(String(entry)));
      else if (entry !== null && typeof entry === 'object' && !Array.isArray(entry)) {
        ports.push(
          parseLongPort(entry as Record<string, unknown>, `services.${name}.ports[${index}]`),
        );
      } else throw new ComposeError(`services.${name}.ports[${index}] is invalid`);
    });
    services.push({ name, image: image ?? `${name}:latest`, ports });
  }
  return { name: typeof top.name === 'string' ? top.name : null, services, warnings };
}
