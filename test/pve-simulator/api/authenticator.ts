import {
  createHmac,
  createSign,
  createVerify,
  KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from './api-request';

export interface ApiCredentials {
  username: string;
  password: string;
  tokenId: string;
  tokenSecret: string;
}

/** A 401 from the auth handler: the text goes into the reason phrase, the body stays empty. */
export class AuthFailure extends Error {}

const TICKET_LIFETIME = 7200;
const CLOCK_SKEW = 300;

function hex8(seconds: number): string {
  return seconds.toString(16).toUpperCase().padStart(8, '0');
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** pve-http-server's extract_auth_value: `NAME=value` in a Cookie or Authorization header. */
function extractAuthValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const match = new RegExp(`(?:^|\\s)${name}(?:=| )([^;]*)`).exec(header);
  if (!match || match[1] === '') return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

/**
 * Tickets (`PVE:<user>:<hex time>::<RSA signature>`), CSRF prevention tokens
 * (`<hex time>:<HMAC-SHA256>`) and API tokens, as pve-access-control issues and
 * checks them, with pve-manager ≥ 9.1.5's answers.
 */
export class Authenticator {
  private readonly csrfSecret = randomBytes(32);

  constructor(
    private readonly credentials: ApiCredentials,
    private readonly signingKey: KeyObject,
    private readonly clock: () => number,
  ) {}

  private nowSeconds(): number {
    return Math.floor(this.clock() / 1000);
  }

  createTicket(userid: string): { ticket: string; csrf: string } {
    const plain = `PVE:${userid}:${hex8(this.nowSeconds())}`;
    const signature = createSign('sha256').update(plain).sign(this.signingKey, 'base64');
    return { ticket: `${plain}::${signature}`, csrf: this.csrfToken(userid) };
  }

  private csrfToken(userid: string, timestamp = hex8(this.nowSeconds())): string {
    const digest = createHmac('sha256', this.csrfSecret)
      .update(`${timestamp}:${userid}`)
      .digest('base64')
      .replace(/=+$/, '');
    return `${timestamp}:${digest}`;
  }

  /** POST /access/ticket's credential check; returns the user id or null. */
  login(username: string, password: string, realm: string | undefined): string | null {
    const userid =
      realm !== undefined && !username.includes('@') ? `${username}@${realm}` : username;
    if (
      !safeEqual(userid, this.credentials.username) ||
      !safeEqual(password, this.credentials.password)
    )
      return null;
    return userid;
  }

  private verifyTicket(ticket: string): string | null {
    const match = /^PVE:([^:\s]+):([A-F0-9]{8})::(\S+)$/.exec(ticket);
    if (!match) return null;
    const [, userid, timestamp, signature] = match;
    const valid = createVerify('sha256')
      .update(`PVE:${userid}:${timestamp}`)
      .verify(this.signingKey, signature, 'base64');
    const age = this.nowSeconds() - parseInt(timestamp, 16);
    if (!valid || age < -CLOCK_SKEW || age > TICKET_LIFETIME) return null;
    return userid === this.credentials.username ? userid : null;
  }

  private verifyCsrf(userid: string, token: string | undefined): boolean {
    const match = token === undefined ? null : /^([A-Z0-9]{8}):(\S+)$/.exec(token);
    if (!match) return false;
    const age = this.nowSeconds() - parseInt(match[1], 16);
    return (
      safeEqual(this.csrfToken(userid, match[1]), token as string) &&
      age > -CLOCK_SKEW &&
      age < TICKET_LIFETIME
    );
  }

  /** The API token header value `USER@REALM!NAME=SECRET` (split on the last `=`). */
  private verifyToken(value: string): string | null {
    const eq = value.lastIndexOf('=');
    if (eq < 0) return null;
    const tokenId = value.slice(0, eq);
    const secret = value.slice(eq + 1);
    return safeEqual(tokenId, this.credentials.tokenId) &&
      safeEqual(secret, this.credentials.tokenSecret)
      ? tokenId
      : null;
  }

  /**
   * pve-manager's auth_handler: decides who is calling, or throws AuthFailure
   * with the reason phrase of the 401. Returns null for the calls that need no auth.
   */
  authenticate(
    method: string,
    relPath: string,
    headers: IncomingHttpHeaders,
  ): { principal: Principal | null; apiToken: boolean } {
    const cookie = headers.cookie;
    const authorization = headers.authorization;
    let ticket =
      extractAuthValue(cookie, 'PVEAuthCookie') ?? extractAuthValue(authorization, 'PVEAuthCookie');
    const apiToken =
      ticket === undefined ? extractAuthValue(authorization, 'PVEAPIToken') : undefined;
    if (ticket === '') ticket = undefined;
    const open =
      (relPath === '/access/ticket' && (method === 'GET' || method === 'POST')) ||
      (relPath === '/access/domains' && method === 'GET');
    if (open) return { principal: null, apiToken: apiToken !== undefined };
    if (apiToken !== undefined) {
      const tokenId = this.verifyToken(apiToken);
      if (!tokenId) throw new AuthFailure('Authentication failed!');
      return { principal: { userid: tokenId, isToken: true }, apiToken: true };
    }
    if (ticket === undefined) throw new AuthFailure('No ticket');
    const userid = this.verifyTicket(ticket);
    if (!userid) throw new AuthFailure('Authentication failed!');
    if (method !== 'GET') {
      const csrf = headers.csrfpreventiontoken;
      if (!this.verifyCsrf(userid, Array.isArray(csrf) ? csrf[0] : csrf))
        throw new AuthFailure('Permission denied - invalid csrf token');
    }
    return { principal: { userid, isToken: false }, apiToken: false };
  }

  /** The `cap` object PVE returns with a ticket, for root. */
  static rootCapabilities(): Record<string, Record<string, number>> {
    const all = (names: string[]): Record<string, number> =>
      Object.fromEntries(names.map((name) => [name, 1]));
    return {
      vms: all([
        'VM.Allocate',
        'VM.Audit',
        'VM.Backup',
        'VM.Clone',
        'VM.Config.CDROM',
        'VM.Config.CPU',
        'VM.Config.Cloudinit',
        'VM.Config.Disk',
        'VM.Config.HWType',
        'VM.Config.Memory',
        'VM.Config.Network',
        'VM.Config.Options',
        'VM.Console',
        'VM.Migrate',
        'VM.PowerMgmt',
        'VM.Snapshot',
        'VM.Snapshot.Rollback',
        'Permissions.Modify',
      ]),
      storage: all([
        'Datastore.Allocate',
        'Datastore.AllocateSpace',
        'Datastore.AllocateTemplate',
        'Datastore.Audit',
        'Permissions.Modify',
      ]),
      access: all([
        'Group.Allocate',
        'Permissions.Modify',
        'Realm.Allocate',
        'Realm.AllocateUser',
        'User.Modify',
      ]),
      nodes: all([
        'Permissions.Modify',
        'Sys.Audit',
        'Sys.Console',
        'Sys.Incoming',
        'Sys.Modify',
        'Sys.PowerMgmt',
        'Sys.Syslog',
      ]),
      dc: all(['Sys.Audit', 'Sys.Modify', 'SDN.Allocate', 'SDN.Audit']),
      sdn: all(['Permissions.Modify', 'SDN.Allocate', 'SDN.Audit', 'SDN.Use']),
      mapping: all(['Mapping.Audit', 'Mapping.Modify', 'Mapping.Use', 'Permissions.Modify']),
    };
  }
}
