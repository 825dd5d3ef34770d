import { DomainError } from '../common/errors/domain-error';
import type { CatalogApp, ServiceMount, ServicePort, ServiceTemplate } from './catalog-app';
import { parseTemplate, type TemplatePart } from './template-string';

/**
 * Renders the files of one deployment: `compose.yaml` and `.env`.
 *
 * Why this is injection-proof, by construction rather than by escaping
 * "dangerous" characters:
 *
 * 1. Substitution happens on the structured template, never on YAML text.
 *    A variable's value can only ever become (part of) one string scalar:
 *    an environment value or one `command` argument (the loader refuses the
 *    string form of `command`, which compose would split like a shell line).
 * 2. The YAML is written by this module, not by a general serializer: below
 *    the two fixed top-level keys, every key and every scalar is a
 *    double-quoted string on one line. Inside it,
 *    `"` and `\` are escaped, and every character that is not plainly
 *    printable in both YAML 1.1 and 1.2 (control characters, DEL, C1
 *    controls, NEL, the Unicode line and paragraph separators, BOM, …) is
 *    written as a `\x`/`\u`/`\U` escape. So no value can end the scalar, start
 *    a new line, or be folded differently by compose's YAML parser.
 * 3. Compose interpolates `$` in every string of the file. Every `$` of every
 *    rendered value is doubled (`$$`, compose's literal dollar), so the file
 *    holds no `${…}` for compose to expand: a user value like `${OTHER}` or
 *    `$(cmd)` reaches the container as exactly those characters.
 * 4. No user value is written to `.env` at all (its quoting rules have no
 *    escape for `'` inside single quotes, and double quotes interpolate). The
 *    `.env` only pins the compose project name to the app id, which the
 *    loader has already restricted to `[a-z0-9-]`.
 *
 * The tests parse the output back (as YAML, then with compose's
 * interpolation) and compare each value with the input.
 */

export interface RenderedDeployment {
  composeYaml: string;
  envFile: string;
}

export const MAX_VALUE_LENGTH = 4096;

/**
 * @param userEnv   values from the deploy request (keys must be declared variables)
 * @param generated values from generateSecrets(), for the app's `generate` variables
 * @throws DomainError (400, details on `environment.NAME`) for an undeclared key,
 *   a missing required value or a value that cannot be passed to a process
 */
export function renderDeployment(
  app: CatalogApp,
  userEnv: Readonly<Record<string, string>>,
  generated: Readonly<Record<string, string>>,
): RenderedDeployment {
  const values = resolveValues(app, userEnv, generated);
  const lines: string[] = ['services:'];
  for (const [name, service] of Object.entries(app.compose.services)) {
    lines.push(`  ${quote(name)}:`, ...renderService(service, values));
  }
  if (app.compose.volumes.length > 0) {
    lines.push('volumes:', ...app.compose.volumes.map((v) => `  ${quote(v)}: {}`));
  }
  return {
    composeYaml: `${lines.join('\n')}\n`,
    envFile:
      '# Written by Proximity. Values live in compose.yaml; nothing here is interpolated.\n' +
      `COMPOSE_PROJECT_NAME=${app.id}\n`,
  };
}

function resolveValues(
  app: CatalogApp,
  userEnv: Readonly<Record<string, string>>,
  generated: Readonly<Record<string, string>>,
): Map<string, string | undefined> {
  const declared = new Map(app.env.map((v) => [v.name, v]));
  const invalid = Object.keys(userEnv)
    .filter((key) => !declared.has(key))
    .map((key) => ({ field: `environment.${key}`, message: 'is not a variable of this app' }));
  const values = new Map<string, string | undefined>();
  for (const variable of app.env) {
    const field = `environment.${variable.name}`;
    const given = Object.prototype.hasOwnProperty.call(userEnv, variable.name)
      ? userEnv[variable.name]
      : undefined;
    if (given !== undefined) {
      const problem = problemWith(given);
      if (problem) invalid.push({ field, message: problem });
      values.set(variable.name, given);
      continue;
    }
    if (variable.generate) {
      const value = generated[variable.name];
      // A bug of the caller, not of the user: generateSecrets() covers every generated variable.
      if (value === undefined) throw new Error(`no generated value for ${variable.name}`);
      values.set(variable.name, value);
      continue;
    }
    if (variable.default === undefined && variable.required) {
      invalid.push({ field, message: 'is required' });
    }
    values.set(variable.name, variable.default);
  }
  if (invalid.length > 0) throw DomainError.invalidFields(invalid);
  return values;
}

function problemWith(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > MAX_VALUE_LENGTH) return `must be at most ${MAX_VALUE_LENGTH} characters`;
  // A NUL cannot be part of a process environment; a lone surrogate is not text.
  if (value.includes('\0')) return 'must not contain NUL characters';
  if (/\p{Cs}/u.test(value)) return 'must be valid Unicode text';
  return null;
}

function renderService(
  service: ServiceTemplate,
  values: ReadonlyMap<string, string | undefined>,
): string[] {
  const lines = [`    "image": ${quote(escapeDollars(service.image))}`];
  lines.push(`    "restart": ${quote(service.restart)}`);
  if (service.command) {
    lines.push('    "command":');
    for (const item of service.command) {
      lines.push(`      - ${quote(escapeDollars(substitute(item, values) ?? ''))}`);
    }
  }
  const environment = Object.entries(service.environment).flatMap(([key, template]) => {
    const value = substitute(template, values);
    return value === undefined ? [] : [`      ${quote(key)}: ${quote(escapeDollars(value))}`];
  });
  if (environment.length > 0) lines.push('    "environment":', ...environment);
  if (service.ports.length > 0) {
    lines.push('    "ports":', ...service.ports.map((p) => `      - ${quote(portSpec(p))}`));
  }
  if (service.volumes.length > 0) {
    lines.push('    "volumes":', ...service.volumes.map((m) => `      - ${quote(mountSpec(m))}`));
  }
  if (service.dependsOn.length > 0) {
    lines.push('    "depends_on":', ...service.dependsOn.map((d) => `      - ${quote(d)}`));
  }
  return lines;
}

/**
 * The literal value of a template. `undefined` when the template is exactly
 * one reference to a variable that has no value: the entry is left out, so
 * the image's own default applies instead of an empty string.
 */
function substitute(
  template: string,
  values: ReadonlyMap<string, string | undefined>,
): string | undefined {
  const parsed = parseTemplate(template);
  if (!parsed.ok) throw new Error(`invalid template: ${parsed.error}`);
  const parts: readonly TemplatePart[] = parsed.parts;
  if (
    parts.length === 1 &&
    parts[0].kind === 'variable' &&
    values.get(parts[0].name) === undefined
  ) {
    return undefined;
  }
  return parts
    .map((part) => {
      if (part.kind === 'text') return part.text;
      if (!values.has(part.name)) throw new Error(`undeclared variable ${part.name}`);
      return values.get(part.name) ?? '';
    })
    .join('');
}

function portSpec(port: ServicePort): string {
  return `${port.published}:${port.target}/${port.protocol}`;
}

function mountSpec(mount: ServiceMount): string {
  return `${mount.source}:${mount.target}${mount.readOnly ? ':ro' : ''}`;
}

/** Compose's literal dollar is `$$`: after this, nothing in the string is interpolated. */
export function escapeDollars(value: string): string {
  return value.replace(/\$/g, '$$$$');
}

/** True for characters written as themselves inside a double-quoted scalar. */
function isPlain(codePoint: number): boolean {
  if (codePoint >= 0x20 && codePoint <= 0x7e) return codePoint !== 0x22 && codePoint !== 0x5c;
  if (codePoint >= 0xa0 && codePoint <= 0xd7ff) return codePoint !== 0x2028 && codePoint !== 0x2029;
  if (codePoint >= 0xe000 && codePoint <= 0xfffd) return codePoint !== 0xfeff;
  return codePoint >= 0x10000 && codePoint <= 0x10ffff;
}

const SHORT_ESCAPES: Record<number, string> = {
  0x09: '\\t',
  0x0a: '\\n',
  0x0d: '\\r',
  0x22: '\\"',
  0x5c: '\\\\',
};

/** A YAML double-quoted scalar on one line; see the module comment. */
export function quote(value: string): string {
  let out = '"';
  for (const char of value) {
    const codePoint = char.codePointAt(0) ?? 0;
    if (isPlain(codePoint)) {
      out += char;
    } else if (SHORT_ESCAPES[codePoint] !== undefined) {
      out += SHORT_ESCAPES[codePoint];
    } else if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
      throw new Error('a lone surrogate cannot be written to YAML');
    } else if (codePoint <= 0xff) {
      out += `\\x${codePoint.toString(16).padStart(2, '0')}`;
    } else if (codePoint <= 0xffff) {
      out += `\\u${codePoint.toString(16).padStart(4, '0')}`;
    } else {
      out += `\\U${codePoint.toString(16).padStart(8, '0')}`;
    }
  }
  return `${out}"`;
}
