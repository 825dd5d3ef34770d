import { createHash } from 'node:crypto';
import { utils } from 'ssh2';

export interface SshHostKey {
  privateKeyOpenSsh: string;
  /** OpenSSH's notation: `SHA256:` + unpadded base64 of the SHA-256 of the public key blob. */
  fingerprint: string;
}

export function sshFingerprint(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '')}`;
}

export function createSshHostKey(): SshHostKey {
  const pair = utils.generateKeyPairSync('ed25519', {});
  const parsed = utils.parseKey(pair.public);
  if (parsed instanceof Error) throw parsed;
  return { privateKeyOpenSsh: pair.private, fingerprint: sshFingerprint(parsed.getPublicSSH()) };
}
