import createClient, { type Middleware } from 'openapi-fetch';
import { session } from '../stores/session.svelte';
import type { paths } from './schema';

const PUBLIC = new Set(['/api/auth/login', '/api/auth/refresh']);

const bearer: Middleware = {
  async onRequest({ request, schemaPath }) {
    if (PUBLIC.has(schemaPath)) return request;
    const token = await session.accessToken();
    if (token) request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ response, schemaPath }) {
    // Catalog routes are public: a 401 elsewhere means the session is over.
    if (response.status === 401 && !PUBLIC.has(schemaPath)) session.expire();
    return response;
  },
};

/** The one API client of the UI, typed by the committed OpenAPI document. */
export const api = createClient<paths>({ baseUrl: '' });
api.use(bearer);
