import type { Principal } from './principal';

/** Who did something and from where: what the audit log needs of a request. */
export interface Actor {
  principal: Principal | null;
  ip: string | null;
}

export function actorId(actor: Actor): string | null {
  return actor.principal?.userId ?? null;
}
