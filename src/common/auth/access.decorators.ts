import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorEnvelope } from '../errors/error-envelope';

export type AccessLevel = 'public' | 'user' | 'admin';
export const ACCESS_KEY = 'proximity:access';
export const OWNER_SCOPED_KEY = 'proximity:owner-scoped';
export const SESSION_ONLY_KEY = 'proximity:session-only';

/** No authentication: the route is open to anyone (login, catalog, probes). */
export const Public = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(ACCESS_KEY, 'public'));

/** Any signed-in user. Also the default when a route declares nothing. */
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(ACCESS_KEY, 'user'),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ type: ErrorEnvelope, description: 'Missing or invalid token' }),
  );

/** Admins only; a plain user gets 403. */
export const AdminOnly = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(ACCESS_KEY, 'admin'),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ type: ErrorEnvelope, description: 'Missing or invalid token' }),
    ApiForbiddenResponse({ type: ErrorEnvelope, description: 'Admins only' }),
  );

/**
 * Marks a route whose resource is loaded through the caller's scope, so a
 * foreign id answers 404. Read by the route-permission snapshot test.
 */
export const OwnerScoped = (): MethodDecorator & ClassDecorator =>
  SetMetadata(OWNER_SCOPED_KEY, true);

/**
 * A route of an owner-scoped controller that loads no resource of the
 * caller's: it answers about all owners' rows and must reveal none of them.
 */
export const AcrossOwners = (): MethodDecorator => SetMetadata(OWNER_SCOPED_KEY, false);

/**
 * Only a login session (access JWT) may call the route; a personal API token
 * gets 403. For what lets a credential outlive itself: creating tokens,
 * changing the password.
 */
export const SessionOnly = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(SESSION_ONLY_KEY, true),
    ApiForbiddenResponse({ type: ErrorEnvelope, description: 'Not with a personal API token' }),
  );
