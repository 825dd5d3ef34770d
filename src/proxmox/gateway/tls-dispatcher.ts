import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import type { ProxmoxConnection } from './proxmox-connection';
import { ProxmoxError, ProxmoxErrorKind } from './proxmox-error';

const SHA256_FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

export class TlsPinMismatch extends Error {
  constructor() {
    super('TLS certificate fingerprint does not match the pin');
    this.name = 'TlsPinMismatch';
  }
}

/**
 * One undici Agent per connection, verifying the server the way the host was
 * registered: against its SHA-256 fingerprint, against a CA, or (explicit
 * opt-in only) not at all. The process-wide TLS switch is never touched.
 * Anything else (an empty pin, an opt-out that is not literally `true`) is
 * refused before a socket is opened: the policy comes from a database row.
 */
export function createDispatcher(tls: ProxmoxConnection['tls'], connectTimeoutMs: number): Agent {
  const policy: unknown = tls;
  const refuse = () =>
    new ProxmoxError(ProxmoxErrorKind.TlsNotPinned, 'no usable TLS pin and no explicit opt-out');
  if (typeof policy !== 'object' || policy === null) throw refuse();
  if ('caCert' in policy) {
    if (typeof policy.caCert !== 'string' || policy.caCert.trim() === '') throw refuse();
    return new Agent({
      connect: { ca: policy.caCert, maxCachedSessions: 0, timeout: connectTimeoutMs },
    });
  }
  if ('insecure' in policy) {
    if (policy.insecure !== true) throw refuse();
    return new Agent({ connect: { rejectUnauthorized: false, timeout: connectTimeoutMs } });
  }
  const expected =
    'fingerprint' in policy && typeof policy.fingerprint === 'string'
      ? policy.fingerprint.toUpperCase()
      : '';
  if (!SHA256_FINGERPRINT.test(expected)) throw refuse();
  // No session reuse: a resumed TLS session presents no certificate to compare.
  const connect = buildConnector({
    rejectUnauthorized: false,
    maxCachedSessions: 0,
    timeout: connectTimeoutMs,
  });
  return new Agent({
    connect: (options, callback) => {
      connect(options, (error, socket) => {
        if (error || !socket) {
          callback(error ?? new Error('no socket'), null);
          return;
        }
        if ((socket as TLSSocket).getPeerCertificate().fingerprint256 !== expected) {
          socket.destroy();
          callback(new TlsPinMismatch(), null);
          return;
        }
        callback(null, socket);
      });
    },
  });
}
