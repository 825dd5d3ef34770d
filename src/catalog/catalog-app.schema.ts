import {
  CATALOG_ID_PATTERN,
  CATEGORY_PATTERN,
  ENV_NAME_PATTERN,
  GENERATORS,
  PROTOCOLS,
  RESTART_POLICIES,
  type CatalogApp,
  type CatalogEnvVar,
  type CatalogPort,
  type ComposeTemplate,
  type Protocol,
  type ServiceMount,
  type ServicePort,
  type ServiceTemplate,
} from './catalog-app';
import { fieldPath, isRecord, Problems } from './schema-reader';
import { parseTemplate, referencedNames } from './template-string';

/**
 * The schema of one catalog file, checked by hand so that each message names
 * the field it concerns. Beyond the shape, it enforces what makes a catalog
 * trustworthy: images pinned to a tag other than `latest`, every template
 * reference declared (and every declaration used), no clash between
 * published ports, a restart policy on every service, and no credential
 * that is not a per-deployment secret.
 */

export type SchemaResult =
  | { readonly ok: true; readonly app: CatalogApp }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Words the API uses as sub-paths of /api/catalog: an app with such an id could not be fetched. */
export const RESERVED_IDS: readonly string[] = ['categories', 'reload'];

/** Host paths a service may mount. The Docker socket must be declared in the description. */
export const ALLOWED_BIND_SOURCES: readonly string[] = ['/var/run/docker.sock'];

/**
 * Variable and compose environment names that hold credentials. Their value
 * must come from a `secret` variable, so no catalog file can ship a
 * password that every deployment shares.
 */
export const CREDENTIAL_NAME =
  /(PASSWORD|PASSWD|PASS|SECRET|TOKEN|SECRET_KEY|API_KEY|ENCRYPTION_KEY|PRIVATE_KEY)$/;

const TOP_REQUIRED = [
  'id',
  'name',
  'version',
  'description',
  'category',
  'tags',
  'icon',
  'website',
  'minCores',
  'minMemoryMb',
  'minDiskGb',
  'ports',
  'compose',
] as const;
const TAG_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const PORT_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;
const SERVICE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const VOLUME_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
const COMPOSE_ENV_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CONTAINER_PATH_PATTERN = /^\/[A-Za-z0-9._/-]*$/;
const PORT_SPEC = /^(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/;
const MOUNT_SPEC = /^([^:]+):([^:]+)(?::(ro|rw))?$/;
// registry[:port]/path[:tag][@sha256:digest]
const IMAGE_REFERENCE =
  /^((?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/;

const MAX_SERVICES = 10;
const MAX_ENV = 50;
const MAX_PORTS = 20;

export function validateCatalogApp(document: unknown): SchemaResult {
  const problems = new Problems();
  if (!isRecord(document)) {
    return { ok: false, problems: ['the document must be a mapping of fields'] };
  }
  problems.keys(document, '', TOP_REQUIRED, ['env']);
  const id = problems.string(document.id, 'id', {
    max: 63,
    pattern: CATALOG_ID_PATTERN,
    hint: 'lower-case letters, digits and "-", starting with a letter or digit',
  });
  if (id !== undefined && RESERVED_IDS.includes(id)) problems.add('id', `"${id}" is reserved`);
  const version = problems.string(document.version, 'version', {
    max: 40,
    pattern: VERSION_PATTERN,
    hint: 'a version such as 1.23.4',
  });
  if (version !== undefined && version.toLowerCase() === 'latest') {
    problems.add('version', 'must be a real version, not "latest"');
  }
  const app = {
    id,
    name: problems.string(document.name, 'name', { max: 80 }),
    version,
    description: problems.string(document.description, 'description', { max: 1000 }),
    category: problems.string(document.category, 'category', {
      max: 40,
      pattern: CATEGORY_PATTERN,
      hint: 'a lower-case slug such as home-automation',
    }),
    tags: readTags(problems, document.tags),
    icon: problems.httpsUrl(document.icon, 'icon'),
    website: problems.httpsUrl(document.website, 'website'),
    minCores: problems.integer(document.minCores, 'minCores', 1, 64),
    minMemoryMb: problems.integer(document.minMemoryMb, 'minMemoryMb', 64, 262_144),
    minDiskGb: problems.integer(document.minDiskGb, 'minDiskGb', 1, 4096),
    ports: readPorts(problems, document.ports),
    env: readEnv(problems, document.env),
    compose: readCompose(problems, document.compose),
  };
  if (app.ports && app.env && app.compose && app.description !== undefined) {
    crossCheck(problems, app.ports, app.env, app.compose, app.description);
  }
  if (!problems.empty) return { ok: false, problems: problems.messages };
  return { ok: true, app: deepFreeze(app as CatalogApp) };
}

function readTags(problems: Problems, value: unknown): string[] | undefined {
  const list = problems.list<unknown>(value, 'tags', 12);
  if (!list) return undefined;
  if (list.length === 0) problems.add('tags', 'must have at least one tag');
  const tags: string[] = [];
  list.forEach((item, index) => {
    const tag = problems.string(item, fieldPath('tags', index), {
      max: 32,
      pattern: TAG_PATTERN,
      hint: 'a lower-case slug',
    });
    if (tag === undefined) return;
    if (tags.includes(tag)) problems.add(fieldPath('tags', index), `"${tag}" is listed twice`);
    else tags.push(tag);
  });
  return tags;
}

function readPorts(problems: Problems, value: unknown): CatalogPort[] | undefined {
  const list = problems.list<unknown>(value, 'ports', MAX_PORTS);
  if (!list) return undefined;
  const ports: CatalogPort[] = [];
  list.forEach((item, index) => {
    const path = fieldPath('ports', index);
    const fields = problems.record(item, path);
    if (!fields) return;
    problems.keys(fields, path, ['name', 'containerPort', 'protocol']);
    const name = problems.string(fields.name, fieldPath(path, 'name'), {
      max: 32,
      pattern: PORT_NAME_PATTERN,
      hint: 'a lower-case slug such as web',
    });
    const containerPort = problems.integer(
      fields.containerPort,
      fieldPath(path, 'containerPort'),
      1,
      65_535,
    );
    const protocol = problems.oneOf(fields.protocol, fieldPath(path, 'protocol'), PROTOCOLS);
    if (name === undefined || containerPort === undefined || protocol === undefined) return;
    if (ports.some((p) => p.name === name)) {
      problems.add(fieldPath(path, 'name'), `port name "${name}" is used twice`);
    }
    if (ports.some((p) => p.containerPort === containerPort && p.protocol === protocol)) {
      problems.add(path, `port clash: ${containerPort}/${protocol} is declared twice`);
    }
    ports.push({ name, containerPort, protocol });
  });
  return ports;
}

function readEnv(problems: Problems, value: unknown): CatalogEnvVar[] | undefined {
  if (value === undefined || value === null) return [];
  const list = problems.list<unknown>(value, 'env', MAX_ENV);
  if (!list) return undefined;
  const variables: CatalogEnvVar[] = [];
  list.forEach((item, index) => {
    const variable = readEnvVar(problems, item, fieldPath('env', index));
    if (!variable) return;
    if (variables.some((v) => v.name === variable.name)) {
      problems.add(
        fieldPath(fieldPath('env', index), 'name'),
        `"${variable.name}" is declared twice`,
      );
      return;
    }
    variables.push(variable);
  });
  return variables;
}

function readEnvVar(problems: Problems, item: unknown, path: string): CatalogEnvVar | undefined {
  const fields = problems.record(item, path);
  if (!fields) return undefined;
  problems.keys(
    fields,
    path,
    ['name', 'description'],
    ['required', 'secret', 'default', 'generate'],
  );
  const before = problems.messages.length;
  const name = problems.string(fields.name, fieldPath(path, 'name'), {
    max: 64,
    pattern: ENV_NAME_PATTERN,
    hint: 'an upper-case variable name such as ADMIN_EMAIL',
  });
  const description = problems.string(fields.description, fieldPath(path, 'description'), {
    max: 300,
  });
  const required = problems.boolean(fields.required, fieldPath(path, 'required'), false);
  const secret = problems.boolean(fields.secret, fieldPath(path, 'secret'), false);
  const fallback = problems.string(fields.default, fieldPath(path, 'default'), {
    min: 0,
    max: 4096,
  });
  const generate = problems.oneOf(fields.generate, fieldPath(path, 'generate'), GENERATORS);
  if (secret && fallback !== undefined) {
    problems.add(
      fieldPath(path, 'default'),
      'a secret variable must not have a default (use generate, or let the user supply it)',
    );
  }
  if (generate !== undefined && fallback !== undefined) {
    problems.add(fieldPath(path, 'default'), 'a generated variable must not have a default');
  }
  if (name !== undefined && CREDENTIAL_NAME.test(name) && !secret) {
    problems.add(fieldPath(path, 'secret'), `"${name}" holds a credential and must be secret`);
  }
  if (problems.messages.length > before || name === undefined || description === undefined) {
    return undefined;
  }
  return {
    name,
    description,
    required,
    secret,
    ...(fallback !== undefined ? { default: fallback } : {}),
    ...(generate !== undefined ? { generate } : {}),
  };
}

function readCompose(problems: Problems, value: unknown): ComposeTemplate | undefined {
  const fields = problems.record(value, 'compose');
  if (!fields) return undefined;
  problems.keys(fields, 'compose', ['services'], ['volumes']);
  const before = problems.messages.length;
  const volumes = readVolumeDeclarations(problems, fields.volumes);
  const servicesNode = problems.record(fields.services, 'compose.services');
  const names = Object.keys(servicesNode ?? {});
  if (servicesNode && (names.length === 0 || names.length > MAX_SERVICES)) {
    problems.add('compose.services', `must have 1..${MAX_SERVICES} services`);
  }
  const services: Record<string, ServiceTemplate> = {};
  for (const name of names) {
    const path = fieldPath('compose.services', name);
    if (!SERVICE_NAME_PATTERN.test(name)) {
      problems.add(path, 'service names are lower-case letters, digits, "-" and "_"');
      continue;
    }
    const service = readService(problems, servicesNode?.[name], path, { name, volumes, names });
    if (service) services[name] = service;
  }
  if (problems.messages.length > before) return undefined;
  return { services, volumes };
}

function readVolumeDeclarations(problems: Problems, value: unknown): string[] {
  const fields = problems.record(value, 'compose.volumes');
  if (!fields) return [];
  const names: string[] = [];
  for (const [name, options] of Object.entries(fields)) {
    const path = fieldPath('compose.volumes', name);
    if (!VOLUME_NAME_PATTERN.test(name)) {
      problems.add(path, 'volume names are lower-case letters, digits, "-" and "_"');
    } else if (options !== null && !(isRecord(options) && Object.keys(options).length === 0)) {
      // Driver options could mount arbitrary host paths: a plain named volume only.
      problems.add(path, 'must be empty ({} or nothing): only plain named volumes are supported');
    } else {
      names.push(name);
    }
  }
  return names;
}

function readService(
  problems: Problems,
  value: unknown,
  path: string,
  context: { name: string; volumes: readonly string[]; names: readonly string[] },
): ServiceTemplate | undefined {
  const fields = problems.record(value, path);
  if (!fields) {
    if (value === null || value === undefined) problems.add(path, 'must be a mapping');
    return undefined;
  }
  problems.keys(
    fields,
    path,
    ['image', 'restart'],
    ['command', 'environment', 'ports', 'volumes', 'depends_on'],
  );
  const before = problems.messages.length;
  const image = readImage(problems, fields.image, fieldPath(path, 'image'));
  const restart = problems.oneOf(fields.restart, fieldPath(path, 'restart'), RESTART_POLICIES);
  const command = readCommand(problems, fields.command, fieldPath(path, 'command'));
  const environment = readEnvironment(problems, fields.environment, fieldPath(path, 'environment'));
  const ports = readServicePorts(problems, fields.ports, fieldPath(path, 'ports'));
  const mounts = readMounts(problems, fields.volumes, fieldPath(path, 'volumes'), context.volumes);
  const dependsOn = readDependsOn(problems, fields.depends_on, fieldPath(path, 'depends_on'), {
    self: context.name,
    services: context.names,
  });
  if (problems.messages.length > before || image === undefined || restart === undefined) {
    return undefined;
  }
  return {
    image,
    restart,
    ...(command !== undefined ? { command } : {}),
    environment: environment ?? {},
    ports: ports ?? [],
    volumes: mounts ?? [],
    dependsOn: dependsOn ?? [],
  };
}

function readImage(problems: Problems, value: unknown, path: string): string | undefined {
  const image = problems.string(value, path, { max: 255 });
  if (image === undefined) return undefined;
  const match = IMAGE_REFERENCE.exec(image);
  if (!match) {
    problems.add(path, 'is not a valid image reference (variables are not allowed here)');
    return undefined;
  }
  const [, , tag, digest] = match;
  if (tag !== undefined && tag.toLowerCase() === 'latest') {
    problems.add(path, 'must not use the "latest" tag: pin a version');
    return undefined;
  }
  if (tag === undefined && digest === undefined) {
    problems.add(path, 'must be pinned to a version tag (or a digest)');
    return undefined;
  }
  return image;
}

function checkTemplate(problems: Problems, text: string, path: string): boolean {
  const parsed = parseTemplate(text);
  if (!parsed.ok) problems.add(path, parsed.error);
  return parsed.ok;
}

function readCommand(problems: Problems, value: unknown, path: string): string[] | undefined {
  if (typeof value === 'string') {
    // The string form is split by compose like a shell line: a value with a
    // space would become several arguments. Only the list form is safe.
    problems.add(path, 'must be a list of arguments (the string form is not supported)');
    return undefined;
  }
  const list = problems.list<unknown>(value, path, 50);
  if (!list) return undefined;
  const command: string[] = [];
  list.forEach((item, index) => {
    const itemPath = fieldPath(path, index);
    const text = problems.string(item, itemPath, { min: 0, max: 1000 });
    if (text !== undefined && checkTemplate(problems, text, itemPath)) command.push(text);
  });
  return command;
}

function readEnvironment(
  problems: Problems,
  value: unknown,
  path: string,
): Record<string, string> | undefined {
  if (Array.isArray(value)) {
    problems.add(path, 'must be a mapping of NAME: value (the list form is not supported)');
    return undefined;
  }
  const fields = problems.record(value, path);
  if (!fields) return undefined;
  const environment: Record<string, string> = {};
  for (const [key, raw] of Object.entries(fields)) {
    const itemPath = fieldPath(path, key);
    if (!COMPOSE_ENV_KEY_PATTERN.test(key)) {
      problems.add(itemPath, 'is not a valid environment variable name');
      continue;
    }
    // Numbers and booleans are accepted as YAML writes them; floats are not,
    // because YAML would silently turn "1.10" into 1.1.
    let text: string | undefined;
    if (typeof raw === 'boolean' || (typeof raw === 'number' && Number.isInteger(raw))) {
      text = String(raw);
    } else if (typeof raw === 'string') {
      text = problems.string(raw, itemPath, { min: 0, max: 4096 });
    } else {
      problems.add(itemPath, 'must be a string, an integer or a boolean (quote other values)');
    }
    if (text !== undefined && checkTemplate(problems, text, itemPath)) environment[key] = text;
  }
  return environment;
}

function readServicePorts(
  problems: Problems,
  value: unknown,
  path: string,
): ServicePort[] | undefined {
  const list = problems.list<unknown>(value, path, MAX_PORTS);
  if (!list) return undefined;
  const ports: ServicePort[] = [];
  list.forEach((item, index) => {
    const itemPath = fieldPath(path, index);
    const match = typeof item === 'string' ? PORT_SPEC.exec(item) : null;
    const published = Number(match?.[1]);
    const target = Number(match?.[2]);
    if (!match || !isPort(published) || !isPort(target)) {
      problems.add(itemPath, 'must be "published:target" or "published:target/udp" (1..65535)');
      return;
    }
    ports.push({ published, target, protocol: (match[3] as Protocol | undefined) ?? 'tcp' });
  });
  return ports;
}

function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65_535;
}

function readMounts(
  problems: Problems,
  value: unknown,
  path: string,
  volumes: readonly string[],
): ServiceMount[] | undefined {
  const list = problems.list<unknown>(value, path, 20);
  if (!list) return undefined;
  const mounts: ServiceMount[] = [];
  list.forEach((item, index) => {
    const itemPath = fieldPath(path, index);
    const match = typeof item === 'string' ? MOUNT_SPEC.exec(item) : null;
    if (!match) {
      problems.add(itemPath, 'must be "volume:/path" or "volume:/path:ro"');
      return;
    }
    const [, source, target, mode] = match;
    const kind = source.startsWith('/') ? 'bind' : 'volume';
    if (kind === 'bind' && !ALLOWED_BIND_SOURCES.includes(source)) {
      problems.add(itemPath, `host path "${source}" may not be mounted; use a named volume`);
    } else if (kind === 'volume' && !volumes.includes(source)) {
      problems.add(itemPath, `volume "${source}" is not declared under compose.volumes`);
    } else if (!CONTAINER_PATH_PATTERN.test(target)) {
      problems.add(itemPath, `"${target}" is not an absolute container path`);
    } else if (mounts.some((m) => m.target === target)) {
      problems.add(itemPath, `"${target}" is mounted twice`);
    } else {
      mounts.push({ kind, source, target, readOnly: mode === 'ro' });
    }
  });
  return mounts;
}

function readDependsOn(
  problems: Problems,
  value: unknown,
  path: string,
  context: { self: string; services: readonly string[] },
): string[] | undefined {
  const list = problems.list<unknown>(value, path, MAX_SERVICES);
  if (!list) return undefined;
  const names: string[] = [];
  list.forEach((item, index) => {
    const itemPath = fieldPath(path, index);
    if (typeof item !== 'string' || !context.services.includes(item) || item === context.self) {
      problems.add(itemPath, 'must name another service of this app');
    } else if (!names.includes(item)) {
      names.push(item);
    }
  });
  return names;
}

/** Checks that need the whole file: references, ports, credentials, the Docker socket. */
function crossCheck(
  problems: Problems,
  ports: readonly CatalogPort[],
  env: readonly CatalogEnvVar[],
  compose: ComposeTemplate,
  description: string,
): void {
  const declared = new Map(env.map((v) => [v.name, v]));
  const used = new Set<string>();
  const published: { service: string; port: ServicePort }[] = [];
  let mountsDockerSocket = false;
  for (const [serviceName, service] of Object.entries(compose.services)) {
    const path = fieldPath('compose.services', serviceName);
    const templates: [string, string][] = [
      ...(service.command ?? []).map((text, i): [string, string] => [
        fieldPath(fieldPath(path, 'command'), i),
        text,
      ]),
      ...Object.entries(service.environment).map(([key, text]): [string, string] => [
        fieldPath(fieldPath(path, 'environment'), key),
        text,
      ]),
    ];
    for (const [templatePath, text] of templates) {
      const parsed = parseTemplate(text);
      const names = parsed.ok ? referencedNames(parsed.parts) : [];
      for (const name of names) {
        used.add(name);
        if (!declared.has(name)) {
          problems.add(templatePath, `references undeclared variable \${${name}}`);
        }
      }
      const key = templatePath.slice(templatePath.lastIndexOf('.') + 1);
      if (templatePath.includes('.environment.') && CREDENTIAL_NAME.test(key.toUpperCase())) {
        const fromSecrets = names.length > 0 && names.every((n) => declared.get(n)?.secret);
        if (!fromSecrets) {
          problems.add(
            templatePath,
            'holds a credential: its value must come from a secret variable, never a literal',
          );
        }
      }
    }
    for (const port of service.ports) {
      const clash = published.find(
        (p) => p.port.published === port.published && p.port.protocol === port.protocol,
      );
      if (clash) {
        problems.add(
          fieldPath(path, 'ports'),
          `port clash: ${port.published}/${port.protocol} is also published by service "${clash.service}"`,
        );
      }
      published.push({ service: serviceName, port });
    }
    if (service.volumes.some((m) => m.kind === 'bind' && m.source === '/var/run/docker.sock')) {
      mountsDockerSocket = true;
    }
  }
  for (const variable of env) {
    if (!used.has(variable.name)) {
      problems.add(
        'env',
        `variable ${variable.name} is declared but never used by the compose template`,
      );
    }
  }
  for (const port of ports) {
    const found = published.some(
      (p) => p.port.published === port.containerPort && p.port.protocol === port.protocol,
    );
    if (!found) {
      problems.add(
        'ports',
        `port "${port.name}" (${port.containerPort}/${port.protocol}) is not published by any service`,
      );
    }
  }
  for (const { service, port } of published) {
    if (!ports.some((p) => p.containerPort === port.published && p.protocol === port.protocol)) {
      problems.add(
        fieldPath(fieldPath('compose.services', service), 'ports'),
        `${port.published}/${port.protocol} is published but not declared under ports`,
      );
    }
  }
  if (mountsDockerSocket && !/docker socket/i.test(description)) {
    problems.add(
      'description',
      'the app mounts the Docker socket (full control of the container host): say so in the description',
    );
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}
