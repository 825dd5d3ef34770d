import { generateEd25519KeyPair } from './ssh-key-pair';

export { sshFingerprint } from './ssh-key-pair';

export interface SshHostKey {
  privateKeyOpenSsh: string;
  /** OpenSSH's notation: `SHA256:` + unpadded base64 of the SHA-256 of the public key blob. */
  fingerprint: string;
}

export function createSshHostKey(): SshHostKey {
  const pair = generateEd25519KeyPair('pve-simulator');
  return { privateKeyOpenSsh: pair.private, fingerprint: pair.fingerprint };
}
