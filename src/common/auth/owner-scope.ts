import { UserRole } from '../../users/user.entity';
import type { Principal } from './principal';

/** Admins see every owner's resources; anyone else only their own. */
export function seesAllOwners(principal: Principal): boolean {
  return principal.role === UserRole.Admin;
}
