import { PveError } from '../../pve/pve-error';
import { Authenticator } from '../authenticator';
import { Router } from '../router';

export const CLUSTER_NAME = 'proximity-sim';

export function registerAccessRoutes(router: Router, auth: Authenticator): void {
  router.add('GET', '/access/ticket', () => null);

  router.add('POST', '/access/ticket', (req) => {
    const userid = auth.login(
      req.params.required('username'),
      req.params.required('password'),
      req.params.str('realm'),
    );
    if (userid === null) throw new PveError(401, 'authentication failure');
    const { ticket, csrf } = auth.createTicket(userid);
    return {
      username: userid,
      ticket,
      CSRFPreventionToken: csrf,
      cap: Authenticator.rootCapabilities(),
      clustername: CLUSTER_NAME,
    };
  });
}
