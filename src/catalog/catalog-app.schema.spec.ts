import { validateCatalogApp } from './catalog-app.schema';

/** A valid two-service app that uses every feature of the format. */
function validDocument(): Record<string, unknown> {
  return {
    id: 'demo-app',
    name: 'Demo App',
    version: '1.2.3',
    description: 'A demo app with a database.',
    category: 'tools',
    tags: ['demo', 'example'],
    icon: 'https://example.com/icon.png',
    website: 'https://example.com',
    minCores: 1,
    minMemoryMb: 256,
    minDiskGb: 2,
    ports: [
      { name: 'web', containerPort: 8080, protocol: 'tcp' },
      { name: 'dns', containerPort: 53, protocol: 'udp' },
    ],
    env: [
      { name: 'TITLE', description: 'Page title', default: 'Demo' },
      { name: 'ADMIN_EMAIL', description: 'Admin e-mail', required: true },
      {
        name: 'DB_PASSWORD',
        description: 'Database password',
        required: true,
        secret: true,
        generate: 'password',
      },
    ],
    compose: {
      services: {
        web: {
          image: 'ghcr.io/example/demo:1.2.3',
          restart: 'unless-stopped',
          command: ['--title', '${TITLE}'],
          environment: {
            ADMIN_EMAIL: '${ADMIN_EMAIL}',
            DATABASE_URL: 'postgres://demo:${DB_PASSWORD}@db/demo',
            PRICE: '5$$',
            WORKERS: 2,
            DEBUG: false,
          },
          ports: ['8080:80', '53:53/udp'],
          volumes: ['data:/data', 'config:/etc/demo:ro'],
          depends_on: ['db'],
        },
        db: {
          image: 'postgres:16-alpine',
          restart: 'always',
          environment: { POSTGRES_PASSWORD: '${DB_PASSWORD}' },
          volumes: ['db:/var/lib/postgresql/data'],
        },
      },
      volumes: { data: {}, config: null, db: {} },
    },
  };
}

type Doc = Record<string, unknown>;
type Change = (doc: Doc & { compose: { services: Record<string, Doc> } }) => void;

function problemsOf(change: Change): readonly string[] {
  const doc = validDocument() as Parameters<Change>[0];
  change(doc);
  const result = validateCatalogApp(doc);
  return result.ok ? [] : result.problems;
}

const web = (doc: Parameters<Change>[0]): Doc => doc.compose.services.web;
const envList = (doc: Doc): Doc[] => doc.env as Doc[];

describe('catalog app schema', () => {
  it('accepts a complete app and builds the frozen model', () => {
    const result = validateCatalogApp(validDocument());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(
      result.app.env.map((v) => [v.name, v.required, v.secret, v.default, v.generate]),
    ).toEqual([
      ['TITLE', false, false, 'Demo', undefined],
      ['ADMIN_EMAIL', true, false, undefined, undefined],
      ['DB_PASSWORD', true, true, undefined, 'password'],
    ]);
    expect(result.app.compose.services.web).toEqual({
      image: 'ghcr.io/example/demo:1.2.3',
      restart: 'unless-stopped',
      command: ['--title', '${TITLE}'],
      environment: {
        ADMIN_EMAIL: '${ADMIN_EMAIL}',
        DATABASE_URL: 'postgres://demo:${DB_PASSWORD}@db/demo',
        PRICE: '5$$',
        WORKERS: '2',
        DEBUG: 'false',
      },
      ports: [
        { published: 8080, target: 80, protocol: 'tcp' },
        { published: 53, target: 53, protocol: 'udp' },
      ],
      volumes: [
        { kind: 'volume', source: 'data', target: '/data', readOnly: false },
        { kind: 'volume', source: 'config', target: '/etc/demo', readOnly: true },
      ],
      dependsOn: ['db'],
    });
    expect(result.app.compose.volumes).toEqual(['data', 'config', 'db']);
    expect(Object.isFrozen(result.app.compose.services.web.environment)).toBe(true);
  });

  it('accepts a digest-pinned image and an image with a registry port', () => {
    expect(
      problemsOf((d) => {
        web(d).image = `registry.local:5000/demo@sha256:${'a'.repeat(64)}`;
      }),
    ).toEqual([]);
  });

  it('refuses a document that is not a mapping', () => {
    expect(validateCatalogApp(['a'])).toEqual({
      ok: false,
      problems: ['the document must be a mapping of fields'],
    });
    expect(validateCatalogApp(null)).toMatchObject({ ok: false });
  });

  it.each<[string, Change, string]>([
    ['a missing name', (d) => delete d.name, 'name: is required'],
    ['a missing compose template', (d) => delete (d as Doc).compose, 'compose: is required'],
    ['an unknown field', (d) => (d.author = 'x'), 'author: is not a known field'],
    ['a malformed id', (d) => (d.id = 'Demo_App'), 'id: must be lower-case letters'],
    ['a reserved id', (d) => (d.id = 'categories'), 'id: "categories" is reserved'],
    ['version latest', (d) => (d.version = 'latest'), 'version: must be a real version'],
    ['a category that is not a slug', (d) => (d.category = 'Home Automation'), 'category: must be'],
    ['no tags', (d) => (d.tags = []), 'tags: must have at least one tag'],
    ['a duplicate tag', (d) => (d.tags = ['a', 'a']), 'tags[1]: "a" is listed twice'],
    ['an http icon', (d) => (d.icon = 'http://example.com/i.png'), 'icon: must be an https://'],
    ['a website with credentials', (d) => (d.website = 'https://u:p@x.io'), 'website: must be'],
    ['zero cores', (d) => (d.minCores = 0), 'minCores: must be an integer from 1 to 64'],
    ['fractional memory', (d) => (d.minMemoryMb = 512.5), 'minMemoryMb: must be an integer'],
    ['a string disk size', (d) => (d.minDiskGb = '4'), 'minDiskGb: must be an integer'],
    ['a control character', (d) => (d.name = 'a\u0007b'), 'name: must not contain control'],
    [
      'the latest tag',
      (d) => (web(d).image = 'ghcr.io/example/demo:latest'),
      'compose.services.web.image: must not use the "latest" tag',
    ],
    [
      'an image without a tag',
      (d) => (web(d).image = 'ghcr.io/example/demo'),
      'compose.services.web.image: must be pinned',
    ],
    [
      'a variable in the image',
      (d) => (web(d).image = 'demo:${TITLE}'),
      'compose.services.web.image: is not a valid image reference',
    ],
    [
      'a missing restart policy',
      (d) => delete web(d).restart,
      'compose.services.web.restart: is required',
    ],
    [
      'restart "no"',
      (d) => (web(d).restart = 'no'),
      'compose.services.web.restart: must be one of unless-stopped, always, on-failure',
    ],
    [
      'an unknown service key',
      (d) => (web(d).privileged = true),
      'compose.services.web.privileged: is not a known field',
    ],
    [
      'an undeclared variable',
      (d) => ((web(d).environment as Doc).EXTRA = 'x${NOT_DECLARED}'),
      'compose.services.web.environment.EXTRA: references undeclared variable ${NOT_DECLARED}',
    ],
    [
      'an undeclared variable in the command',
      (d) => (web(d).command = ['${OTHER}']),
      'compose.services.web.command[0]: references undeclared variable ${OTHER}',
    ],
    [
      'a bare $NAME',
      (d) => ((web(d).environment as Doc).EXTRA = '$HOME'),
      'compose.services.web.environment.EXTRA: a "$" at offset 0',
    ],
    [
      'a default-value expression',
      (d) => ((web(d).environment as Doc).EXTRA = '${TITLE:-x}'),
      'compose.services.web.environment.EXTRA: a "$"',
    ],
    [
      'a declared variable nobody uses',
      (d) => envList(d).push({ name: 'UNUSED', description: 'x' }),
      'env: variable UNUSED is declared but never used',
    ],
    [
      'a variable declared twice',
      (d) => envList(d).push({ name: 'TITLE', description: 'again' }),
      'env[3].name: "TITLE" is declared twice',
    ],
    [
      'a secret with a plaintext default',
      (d) => Object.assign(envList(d)[2], { generate: undefined, default: 'changeme' }),
      'env[2].default: a secret variable must not have a default',
    ],
    [
      'a credential variable that is not secret',
      (d) => envList(d).push({ name: 'API_TOKEN', description: 'x' }),
      'env[3].secret: "API_TOKEN" holds a credential and must be secret',
    ],
    [
      'a literal password in the template',
      (d) => ((web(d).environment as Doc).ADMIN_PASSWORD = 'changeme'),
      'compose.services.web.environment.ADMIN_PASSWORD: holds a credential',
    ],
    [
      'a lower-case credential key fed by a non-secret variable',
      (d) => ((web(d).environment as Doc).database__password = '${TITLE}'),
      'compose.services.web.environment.database__password: holds a credential',
    ],
    [
      'an unknown generator',
      (d) => (envList(d)[2].generate = 'base64'),
      'env[2].generate: must be one of password, hex32, uuid',
    ],
    [
      'a port published twice by two services',
      (d) => (d.compose.services.db.ports = ['8080:5432']),
      'compose.services.db.ports: port clash: 8080/tcp is also published by service "web"',
    ],
    [
      'a port declared twice',
      (d) => (d.ports as Doc[]).push({ name: 'web2', containerPort: 8080, protocol: 'tcp' }),
      'ports[2]: port clash: 8080/tcp is declared twice',
    ],
    [
      'a declared port nobody publishes',
      (d) => (d.ports as Doc[]).push({ name: 'extra', containerPort: 9000, protocol: 'tcp' }),
      'ports: port "extra" (9000/tcp) is not published by any service',
    ],
    [
      'a published port that is not declared',
      (d) => (web(d).ports as string[]).push('9000:9000'),
      'compose.services.web.ports: 9000/tcp is published but not declared under ports',
    ],
    [
      'a port range',
      (d) => (web(d).ports = ['8080-8081:80']),
      'compose.services.web.ports[0]: must be "published:target"',
    ],
    [
      'a host path mount',
      (d) => (web(d).volumes = ['/etc:/host-etc']),
      'compose.services.web.volumes[0]: host path "/etc" may not be mounted',
    ],
    [
      'an undeclared volume',
      (d) => (web(d).volumes = ['other:/data']),
      'compose.services.web.volumes[0]: volume "other" is not declared',
    ],
    [
      'a volume with driver options',
      (d) => ((d.compose as Doc).volumes = { data: { driver: 'local' } }),
      'compose.volumes.data: must be empty',
    ],
    [
      'the Docker socket without saying so',
      (d) => (web(d).volumes = ['/var/run/docker.sock:/var/run/docker.sock:ro']),
      'description: the app mounts the Docker socket',
    ],
    [
      'a command string (split like a shell line)',
      (d) => (web(d).command = 'serve --title ${TITLE}'),
      'compose.services.web.command: must be a list of arguments',
    ],
    [
      'a list-form environment',
      (d) => (web(d).environment = ['A=b']),
      'compose.services.web.environment: must be a mapping of NAME: value',
    ],
    [
      'a float in the environment',
      (d) => ((web(d).environment as Doc).RATIO = 1.1),
      'compose.services.web.environment.RATIO: must be a string, an integer or a boolean',
    ],
    [
      'a dependency on an unknown service',
      (d) => (web(d).depends_on = ['cache']),
      'compose.services.web.depends_on[0]: must name another service of this app',
    ],
    [
      'no services',
      (d) => ((d.compose as Doc).services = {}),
      'compose.services: must have 1..10 services',
    ],
  ])('reports %s', (_name, change, expected) => {
    expect(problemsOf(change)).toContainEqual(expect.stringContaining(expected));
  });

  it('accepts the Docker socket when the description says so', () => {
    expect(
      problemsOf((d) => {
        web(d).volumes = ['/var/run/docker.sock:/var/run/docker.sock:ro'];
        d.description = 'Reads the Docker socket.';
      }),
    ).toEqual([]);
  });

  it('reports every problem of a file, each with its field path', () => {
    const problems = problemsOf((d) => {
      d.id = 'BAD';
      d.minCores = 100;
      web(d).image = 'demo:latest';
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^id: /),
        expect.stringMatching(/^minCores: /),
        expect.stringMatching(/^compose\.services\.web\.image: /),
      ]),
    );
  });
});
