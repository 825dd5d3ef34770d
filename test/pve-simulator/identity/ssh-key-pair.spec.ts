import { type ParsedKey, utils } from 'ssh2';
import { generateEd25519KeyPair, generateEncryptedKeyPair } from './ssh-key-pair';

const parse = (data: string, passphrase?: string): ParsedKey => {
  const parsed = utils.parseKey(data, passphrase) as ParsedKey | ParsedKey[] | Error;
  if (parsed instanceof Error) throw parsed;
  return Array.isArray(parsed) ? parsed[0] : parsed;
};

describe('SSH test keys', () => {
  // ssh2's own generator fails about 4 times in 1,000 (a public key with a
  // leading zero byte); 2,000 keys meet that case about 8 times.
  it('every generated ed25519 pair parses in ssh2, both halves the same key', () => {
    const failures: string[] = [];
    for (let i = 0; i < 2000; i += 1) {
      const pair = generateEd25519KeyPair();
      const privateKey = parse(pair.private);
      const publicKey = parse(pair.public);
      const blob = publicKey.getPublicSSH();
      // string "ssh-ed25519" (4 + 11 bytes), then the 32-byte key behind its length.
      if (
        !privateKey.isPrivateKey() ||
        blob.readUInt32BE(15) !== 32 ||
        !privateKey.getPublicSSH().equals(blob)
      ) {
        failures.push(pair.public);
      }
    }
    expect(failures).toEqual([]);
  });

  it('the private half signs what the public half verifies', () => {
    const pair = generateEd25519KeyPair();
    const data = Buffer.from('challenge');
    expect(parse(pair.public).verify(data, parse(pair.private).sign(data))).toBe(true);
  });

  it('an encrypted key opens with its passphrase only', () => {
    const pair = generateEncryptedKeyPair('open sesame');
    expect(parse(pair.private, 'open sesame').isPrivateKey()).toBe(true);
    expect(utils.parseKey(pair.private, 'nope')).toBeInstanceOf(Error);
    expect(utils.parseKey(pair.private)).toBeInstanceOf(Error);
    expect(
      parse(pair.public).getPublicSSH().equals(parse(pair.private, 'open sesame').getPublicSSH()),
    ).toBe(true);
  });
});
