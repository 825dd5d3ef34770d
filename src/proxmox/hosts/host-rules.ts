import { X509Certificate } from 'node:crypto';
import type { FieldError } from '../../common/errors/domain-error';
import type { ProxmoxHost } from './proxmox-host.entity';

/** The host as it would be saved: rules that span fields are checked on this. */
export type HostState = Pick<
  ProxmoxHost,
  | 'tokenId'
  | 'tokenSecret'
  | 'username'
  | 'password'
  | 'tlsFingerprint'
  | 'caCert'
  | 'tlsInsecure'
  | 'sshPrivateKey'
  | 'sshPassword'
  | 'sshHostKeyFingerprint'
  | 'sshInsecure'
  | 'vmidMin'
  | 'vmidMax'
  | 'portMin'
  | 'portMax'
>;

function credentialProblems(h: HostState): FieldError[] {
  const token = h.tokenId !== null || h.tokenSecret !== null;
  const login = h.username !== null || h.password !== null;
  if (token && login) {
    return [
      { field: 'tokenId', message: 'give either tokenId + tokenSecret or username + password' },
    ];
  }
  if (token) {
    if (h.tokenId === null)
      return [{ field: 'tokenId', message: 'tokenId is required with tokenSecret' }];
    if (h.tokenSecret === null)
      return [{ field: 'tokenSecret', message: 'tokenSecret is required with tokenId' }];
    return [];
  }
  if (login) {
    if (h.username === null)
      return [{ field: 'username', message: 'username is required with password' }];
    if (h.password === null)
      return [{ field: 'password', message: 'password is required with username' }];
    return [];
  }
  return [{ field: 'tokenId', message: 'give tokenId + tokenSecret or username + password' }];
}

function tlsProblems(h: HostState): FieldError[] {
  const pinned = h.tlsFingerprint !== null || h.caCert !== null;
  if (h.tlsInsecure && pinned) {
    return [
      { field: 'tlsInsecure', message: 'tlsInsecure cannot be combined with a fingerprint or CA' },
    ];
  }
  if (!pinned && !h.tlsInsecure) {
    return [
      {
        field: 'tlsFingerprint',
        message: 'give tlsFingerprint or caCert, or set tlsInsecure: true explicitly',
      },
    ];
  }
  if (h.caCert !== null) {
    try {
      new X509Certificate(h.caCert);
    } catch {
      return [{ field: 'caCert', message: 'caCert must be a PEM certificate' }];
    }
  }
  return [];
}

function sshProblems(h: HostState): FieldError[] {
  const problems: FieldError[] = [];
  if (h.sshHostKeyFingerprint !== null && h.sshInsecure) {
    problems.push({
      field: 'sshInsecure',
      message: 'sshInsecure cannot be combined with a pinned host key',
    });
  }
  if (h.sshHostKeyFingerprint === null && !h.sshInsecure) {
    problems.push({
      field: 'sshHostKeyFingerprint',
      message: 'give sshHostKeyFingerprint, or set sshInsecure: true explicitly',
    });
  }
  if (h.sshPrivateKey === null && h.sshPassword === null) {
    problems.push({ field: 'sshPrivateKey', message: 'give sshPrivateKey or sshPassword' });
  }
  return problems;
}

function rangeProblems(h: HostState): FieldError[] {
  const problems: FieldError[] = [];
  if (h.vmidMin > h.vmidMax)
    problems.push({ field: 'vmidMin', message: 'vmidMin must not exceed vmidMax' });
  if (h.portMin > h.portMax)
    problems.push({ field: 'portMin', message: 'portMin must not exceed portMax' });
  return problems;
}

/** Every cross-field problem of a host, each named by the field to fix. */
export function hostProblems(h: HostState): FieldError[] {
  return [...credentialProblems(h), ...tlsProblems(h), ...sshProblems(h), ...rangeProblems(h)];
}
