import type { Response } from 'supertest';
import type { TestApp } from './test-app';

/**
 * The routes of the running app as its OpenAPI document describes them, so a
 * test of a whole class of routes covers a new route without being edited.
 */

export interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  additionalProperties?: Schema | boolean;
}

export interface Operation {
  parameters?: { name: string; in: string; schema?: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}

export interface Route {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** With every path parameter filled in by a well-formed id that exists nowhere. */
  path: string;
  op: Operation;
}

export interface StringField {
  path: string[];
  /** A string inside an array is reported on the array's own field. */
  inArray: boolean;
}

export interface ApiRoutes {
  /** Every route that takes a JSON body. */
  withBody: Route[];
  /** Every paginated list route (takes `page`). */
  lists: Route[];
  /** The resolved schema of a route's body. */
  bodySchema: (route: Route) => Schema;
  /** Every string field of a body schema, nested ones included. */
  stringFields: (schema: Schema) => StringField[];
  /** Every route, query parameters or not. */
  all: Route[];
  /** A schema with its `$ref` followed. */
  resolve: (schema: Schema) => Schema;
}

export const SOME_ID = '00000000-0000-4000-8000-000000000000';

export async function discoverRoutes(t: TestApp): Promise<ApiRoutes> {
  const res = await t.http().get('/api/docs-json');
  if (res.status !== 200) throw new Error(`/api/docs-json answered ${res.status}`);
  const doc = res.body as {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, Schema> };
  };
  const resolve = (schema: Schema): Schema =>
    schema.$ref
      ? resolve(doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')])
      : schema;
  const stringFields = (schema: Schema, prefix: string[] = []): StringField[] =>
    Object.entries(schema.properties ?? {}).flatMap(([name, raw]) => {
      const prop = resolve(raw);
      const path = [...prefix, name];
      if (prop.type === 'string') return [{ path, inArray: false }];
      if (prop.type === 'array' && prop.items && resolve(prop.items).type === 'string')
        return [{ path, inArray: true }];
      if (prop.properties) return stringFields(prop, path);
      return [];
    });
  const routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method as Route['method'],
      path: path.replace(/\{[^}]+\}/g, SOME_ID),
      op,
    })),
  );
  return {
    withBody: routes.filter((r) => r.op.requestBody),
    lists: routes.filter((r) =>
      (r.op.parameters ?? []).some((p) => p.in === 'query' && p.name === 'page'),
    ),
    bodySchema: (route) => resolve(route.op.requestBody!.content['application/json'].schema),
    stringFields: (schema) => stringFields(schema),
    all: routes,
    resolve,
  };
}

/** The query parameters of a route of one schema type. */
export function queryParams(route: Route, types: string[]): string[] {
  return (route.op.parameters ?? [])
    .filter((p) => p.in === 'query' && types.includes(p.schema?.type ?? ''))
    .map((p) => p.name);
}

/** `{a: {b: value}}` for the path ['a', 'b']. */
export function bodyWith(path: string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  return { [head]: rest.length === 0 ? value : bodyWith(rest, value) };
}

export function detailsOf(res: Response): { field: string; message: string }[] {
  return (res.body as { details?: { field: string; message: string }[] }).details ?? [];
}
