import fc from 'fast-check';
import { parse } from 'yaml';
import {
  interpolate,
  parseComposeFile,
  parseEnvFile,
} from '../../test/pve-simulator/guest/compose-file';
import { DomainError } from '../common/errors/domain-error';
import type { CatalogApp } from './catalog-app';
import { validateCatalogApp } from './catalog-app.schema';
import { quote, renderDeployment } from './compose-renderer';

function demoApp(): CatalogApp {
  const result = validateCatalogApp({
    id: 'demo',
    name: 'Demo',
    version: '1.0.0',
    description: 'Demo',
    category: 'tools',
    tags: ['demo'],
    icon: 'https://example.com/i.png',
    website: 'https://example.com',
    minCores: 1,
    minMemoryMb: 128,
    minDiskGb: 1,
    ports: [{ name: 'web', containerPort: 8080, protocol: 'tcp' }],
    env: [
      { name: 'MOTTO', description: 'Free text', required: true },
      { name: 'TITLE', description: 'Title', default: 'Hello' },
      { name: 'OPTIONAL', description: 'Optional' },
      {
        name: 'DB_PASSWORD',
        description: 'DB',
        required: true,
        secret: true,
        generate: 'password',
      },
    ],
    compose: {
      services: {
        web: {
          image: 'example/demo:1.0.0',
          restart: 'unless-stopped',
          command: ['--motto', '${MOTTO}', '--optional=${OPTIONAL}'],
          environment: {
            MOTTO: '${MOTTO}',
            BANNER: '${TITLE}: ${MOTTO} ($$5)',
            OPTIONAL: '${OPTIONAL}',
            DB_PASSWORD: '${DB_PASSWORD}',
            WORKERS: 2,
          },
          ports: ['8080:80'],
          volumes: ['data:/data'],
          depends_on: ['db'],
        },
        db: {
          image: 'postgres:16-alpine',
          restart: 'unless-stopped',
          environment: { POSTGRES_PASSWORD: '${DB_PASSWORD}' },
        },
      },
      volumes: { data: {} },
    },
  });
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.app;
}

interface Service {
  image: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
}

/**
 * What the container would get, read the way docker compose reads the
 * files: YAML first, then `${…}` interpolation of every string from the
 * `.env` file, here deliberately polluted with variables an attacker
 * would like to see expanded.
 */
function asCompose(yamlText: string, envFile: string): Record<string, Service> {
  const env = {
    ...parseEnvFile(envFile),
    OTHER: 'INJECTED',
    HOME: 'INJECTED',
    MOTTO: 'INJECTED',
    DB_PASSWORD: 'INJECTED',
  };
  const warnings: string[] = [];
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return interpolate(node, env, warnings);
    if (Array.isArray(node)) return node.map(walk);
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    }
    return node;
  };
  // YAML 1.1 as well as 1.2: compose's parser is YAML 1.1-flavoured.
  expect(parse(yamlText, { version: '1.1' })).toEqual(parse(yamlText));
  const document = walk(parse(yamlText)) as { services: Record<string, Service> };
  expect(warnings).toEqual([]);
  return document.services;
}

const HOSTILE = [
  'line one\nline two\r\nline three',
  'say "hi" and \'bye\'',
  '${OTHER}',
  '$OTHER and $$ and $',
  '$(rm -rf /) `id`',
  'key: value\n- item\n  nested: [1, 2]',
  '# not a comment',
  'trailing backslash \\',
  '\\n is not a newline',
  '--- \n... \n%YAML 1.2',
  '{ flow: mapping }',
  '&anchor *alias !!python/object:os.system',
  'unicode: é ✓ 😀 \u0085 \u2028 \u2029 \ufeff \u007f \u0001',
  '   leading and trailing spaces   ',
  'OTHER=injected\nEXTRA=1',
  '',
];

describe('renderDeployment', () => {
  const app = demoApp();
  const generated = { DB_PASSWORD: 'generated-secret-1' };

  it('renders a compose document with the values, defaults and generated secrets', () => {
    const { composeYaml, envFile } = renderDeployment(app, { MOTTO: 'carpe diem' }, generated);
    const services = asCompose(composeYaml, envFile);
    expect(services.web).toEqual({
      image: 'example/demo:1.0.0',
      restart: 'unless-stopped',
      command: ['--motto', 'carpe diem', '--optional='],
      environment: {
        MOTTO: 'carpe diem',
        BANNER: 'Hello: carpe diem ($5)',
        DB_PASSWORD: 'generated-secret-1',
        WORKERS: '2',
      },
      ports: ['8080:80/tcp'],
      volumes: ['data:/data'],
      depends_on: ['db'],
    });
    // The same generated value reaches both services.
    expect(services.db.environment).toEqual({ POSTGRES_PASSWORD: 'generated-secret-1' });
    // An unset optional variable leaves its entry out (the image default applies).
    expect(services.web.environment).not.toHaveProperty('OPTIONAL');
    const model = parseComposeFile(composeYaml, parseEnvFile(envFile));
    expect(model.services.map((s) => [s.name, s.image])).toEqual([
      ['web', 'example/demo:1.0.0'],
      ['db', 'postgres:16-alpine'],
    ]);
    expect(model.services[0].ports).toEqual([
      { hostIp: null, published: { from: 8080, to: 8080 }, target: 80, protocol: 'tcp' },
    ]);
  });

  it('writes no user value to .env, only the project name', () => {
    const { envFile } = renderDeployment(app, { MOTTO: 'x\nOTHER=1' }, generated);
    expect(parseEnvFile(envFile)).toEqual({ COMPOSE_PROJECT_NAME: 'demo' });
    expect(envFile).not.toContain('generated-secret-1');
  });

  it('a user value may override a generated one', () => {
    const { composeYaml, envFile } = renderDeployment(
      app,
      { MOTTO: 'm', DB_PASSWORD: 'mine' },
      generated,
    );
    expect(asCompose(composeYaml, envFile).db.environment?.POSTGRES_PASSWORD).toBe('mine');
  });

  it.each(HOSTILE)('keeps %j as exactly one literal value', (value) => {
    const { composeYaml, envFile } = renderDeployment(
      app,
      { MOTTO: value, OPTIONAL: value },
      generated,
    );
    const services = asCompose(composeYaml, envFile);
    expect(Object.keys(services)).toEqual(['web', 'db']);
    expect(Object.keys(services.web)).toEqual([
      'image',
      'restart',
      'command',
      'environment',
      'ports',
      'volumes',
      'depends_on',
    ]);
    expect(services.web.command).toEqual(['--motto', value, `--optional=${value}`]);
    expect(services.web.environment).toEqual({
      MOTTO: value,
      BANNER: `Hello: ${value} ($5)`,
      OPTIONAL: value,
      DB_PASSWORD: 'generated-secret-1',
      WORKERS: '2',
    });
    // One line per entry: no value can add a line (a key, an item) of its own.
    expect(composeYaml.split('\n').filter((l) => l.includes('"MOTTO"'))).toHaveLength(1);
  });

  it('keeps any Unicode text literal (property test)', () => {
    const text = fc
      .string({ unit: 'binary', maxLength: 40 })
      .filter((s) => !s.includes('\0'))
      .map((s) => s.replace(/\p{Cs}/gu, ''));
    const mixed = fc.array(fc.oneof(text, fc.constantFrom(...HOSTILE, '$', '{', '}', '"', '\\')), {
      maxLength: 6,
    });
    fc.assert(
      fc.property(mixed, (pieces) => {
        const value = pieces.join('');
        const { composeYaml, envFile } = renderDeployment(app, { MOTTO: value }, generated);
        const services = asCompose(composeYaml, envFile);
        return services.web.environment?.MOTTO === value && services.web.command?.[1] === value;
      }),
      { numRuns: 300 },
    );
  });

  it('writes every scalar as a double-quoted string on one line', () => {
    expect(quote('a"b\\c\n\t\r')).toBe('"a\\"b\\\\c\\n\\t\\r"');
    expect(quote('\u0001\u007f\u0085\u2028\u2029\ufeff😀é')).toBe(
      '"\\x01\\x7f\\x85\\u2028\\u2029\\ufeff😀é"',
    );
  });

  it.each<[string, Record<string, string>, string]>([
    ['a missing required value', {}, 'environment.MOTTO'],
    ['an undeclared key', { MOTTO: 'x', EXTRA: 'y' }, 'environment.EXTRA'],
    ['a NUL character', { MOTTO: 'a\0b' }, 'environment.MOTTO'],
    ['a lone surrogate', { MOTTO: 'a\ud800b' }, 'environment.MOTTO'],
    ['a value over 4 KiB', { MOTTO: 'x'.repeat(4097) }, 'environment.MOTTO'],
  ])('refuses %s with a 400 naming the field', (_name, userEnv, field) => {
    let error: unknown;
    try {
      renderDeployment(app, userEnv, generated);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).details?.map((d) => d.field)).toContain(field);
  });

  it('treats a missing generated value as a bug of the caller', () => {
    expect(() => renderDeployment(app, { MOTTO: 'x' }, {})).toThrow(
      'no generated value for DB_PASSWORD',
    );
  });
});
