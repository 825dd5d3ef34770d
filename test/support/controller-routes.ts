import { PATH_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import {
  ACCESS_KEY,
  OWNER_SCOPED_KEY,
  SESSION_ONLY_KEY,
} from '../../src/common/auth/access.decorators';
import type { TestApp } from './test-app';

export interface DiscoveredRoute {
  method: string;
  path: string;
  access: string;
  ownerScoped: boolean;
  sessionOnly: boolean;
}

/** Every handler of every controller, with what it declares about who may call it. */
export function collectRoutes(t: TestApp): DiscoveredRoute[] {
  const discovery = t.app.get(DiscoveryService, { strict: false });
  const reflector = t.app.get(Reflector, { strict: false });
  const routes: DiscoveredRoute[] = [];
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
    if (!controller) continue;
    const prefix = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    const prototype = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined) continue;
      const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
      const targets = [handler, controller] as never[];
      routes.push({
        method: RequestMethod[method],
        path: `/${[prefix, sub].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/'),
        access: reflector.getAllAndOverride<string>(ACCESS_KEY, targets) ?? 'user (default)',
        ownerScoped: reflector.getAllAndOverride<boolean>(OWNER_SCOPED_KEY, targets) ?? false,
        sessionOnly: reflector.getAllAndOverride<boolean>(SESSION_ONLY_KEY, targets) ?? false,
      });
    }
  }
  return routes.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}
