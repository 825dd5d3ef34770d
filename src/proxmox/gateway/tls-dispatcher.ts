import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import type { ProxmoxConnection } from './proxmox-connection';

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
 */
export function createDispatcher(tls: ProxmoxConnection['tls'], connectTimeoutMs: number): Agent {
  if ('caCert' in tls) {
    return new Agent({
      connect: { ca: tls.caCert, maxCachedSessions: 0, timeout: connectTimeoutMs },
    });
  }
  if ('insecure' in tls) {
    return new Agent({ connect: { rejectUnauthorized: false, timeout: connectTimeoutMs } });
  }
  const expected = tls.fingerprint.toUpperCase();
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
