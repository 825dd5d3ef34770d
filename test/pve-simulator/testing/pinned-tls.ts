import { TLSSocket } from 'node:tls';
import proxmoxApi, { Proxmox } from 'proxmox-api';
import { Agent, buildConnector, fetch as undiciFetch, RequestInit } from 'undici';

/**
 * An undici Agent that accepts exactly one certificate: the one whose SHA-256
 * fingerprint was printed by the simulator (see the pinning notes in
 * reference/proxmox-api.md). Anything else is refused before a request is sent.
 */
export function pinnedAgent(fingerprint256: string): Agent {
  // No TLS session reuse: a resumed session presents no certificate to compare.
  const connect = buildConnector({ rejectUnauthorized: false, maxCachedSessions: 0 });
  return new Agent({
    connect: (options, callback) => {
      connect(options, (error, socket) => {
        if (error) {
          callback(error, null);
          return;
        }
        const presented = (socket as TLSSocket).getPeerCertificate().fingerprint256;
        if (presented !== fingerprint256) {
          socket.destroy();
          callback(
            new Error(`TLS fingerprint mismatch: expected ${fingerprint256}, got ${presented}`),
            null,
          );
          return;
        }
        callback(null, socket);
      });
    },
  });
}

export interface PveTarget {
  api: string;
  tlsFingerprint: string;
}

export interface PveClient {
  api: Proxmox.Api;
  agent: Agent;
}

function hostAndPort(api: string): { host: string; port: number } {
  const url = new URL(api);
  return { host: url.hostname, port: Number(url.port) };
}

/** The real proxmox-api client, with API-token auth, over a pinned connection. */
export function tokenClient(
  target: PveTarget & { tokenId: string; tokenSecret: string },
): PveClient {
  const agent = pinnedAgent(target.tlsFingerprint);
  const api = proxmoxApi({
    ...hostAndPort(target.api),
    tokenID: target.tokenId,
    tokenSecret: target.tokenSecret,
    fetch: (url, init?: RequestInit) => undiciFetch(url, { ...init, dispatcher: agent }),
  });
  return { api, agent };
}

/** The real proxmox-api client, with ticket auth (POST /access/ticket, cookie + CSRF header). */
export function ticketClient(
  target: PveTarget & { username: string; password: string },
): PveClient {
  const agent = pinnedAgent(target.tlsFingerprint);
  const api = proxmoxApi({
    ...hostAndPort(target.api),
    username: target.username,
    password: target.password,
    fetch: (url, init?: RequestInit) => undiciFetch(url, { ...init, dispatcher: agent }),
  });
  return { api, agent };
}
