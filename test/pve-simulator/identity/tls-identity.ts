import { createPrivateKey, generateKeyPair, KeyObject, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';

const generateRsaKeyPair = promisify(generateKeyPair);

export interface TlsIdentity {
  keyPem: string;
  certPem: string;
  /** SHA-256 fingerprint as Proxmox and Node print it: `AA:BB:…`, upper case. */
  fingerprint256: string;
  /** The same key signs authentication tickets, as pve-access-control's authkey does. */
  privateKey: KeyObject;
}

/** A self-signed certificate for 127.0.0.1/localhost, generated at every start. */
export async function createTlsIdentity(commonName: string): Promise<TlsIdentity> {
  const keys = await generateRsaKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyPair: { privateKey: keys.privateKey, publicKey: keys.publicKey },
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + 2 * 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 2, value: commonName },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return {
    keyPem: keys.privateKey,
    certPem: pems.cert,
    fingerprint256: new X509Certificate(pems.cert).fingerprint256,
    privateKey: createPrivateKey(keys.privateKey),
  };
}
