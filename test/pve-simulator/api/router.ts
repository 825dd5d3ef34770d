import type { ApiRequest } from './api-request';
import { ENDPOINT_SCHEMAS, EndpointSchema } from './schema/parameter-schema';

export type RouteHandler = (req: ApiRequest) => unknown;

export interface Route {
  method: string;
  template: string;
  schema: EndpointSchema;
  handler: RouteHandler;
}

interface CompiledRoute extends Route {
  segments: string[];
  /** The last parameter takes the rest of the path (volume IDs contain `/`). */
  greedyTail: boolean;
}

/** Index routes (`GET /nodes/{node}`) that only list their children and have no schema of interest. */
const EMPTY_SCHEMA: EndpointSchema = {
  allowtoken: 1,
  proxyto: null,
  protected: 0,
  additionalProperties: 0,
  properties: {},
};

/** Maps `METHOD /path` to handlers with pve's path templates (`{node}`, `{vmid}`, …). */
export class Router {
  private readonly routes: CompiledRoute[] = [];

  add(method: string, template: string, handler: RouteHandler): void {
    const schema =
      ENDPOINT_SCHEMAS[`${method} ${template}`] ?? (template === '/' ? EMPTY_SCHEMA : undefined);
    if (!schema) throw new Error(`no schema for ${method} ${template}`);
    const segments = template.split('/').filter((s) => s !== '');
    this.routes.push({
      method,
      template,
      schema,
      handler,
      segments,
      greedyTail: template.endsWith('/content/{volume}'),
    });
  }

  /** The route for a method and path, with the values of its `{…}` parameters. */
  match(method: string, path: string): { route: Route; uriParams: Record<string, string> } | null {
    const parts = path.split('/').filter((s) => s !== '');
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const uriParams = matchSegments(route, parts);
      if (uriParams) return { route, uriParams };
    }
    return null;
  }
}

function matchSegments(route: CompiledRoute, parts: string[]): Record<string, string> | null {
  const { segments } = route;
  if (route.greedyTail ? parts.length < segments.length : parts.length !== segments.length)
    return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const isLast = i === segments.length - 1;
    if (segment.startsWith('{')) {
      const name = segment.slice(1, -1);
      params[name] = isLast && route.greedyTail ? parts.slice(i).join('/') : parts[i];
    } else if (segment !== parts[i]) {
      return null;
    }
  }
  return params;
}
