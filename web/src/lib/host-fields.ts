import type { components } from './api/schema';

type Host = components['schemas']['HostDto'];

export interface HostField {
  key: keyof components['schemas']['CreateHostBody'];
  label: string;
  hint: string;
  kind: 'text' | 'number' | 'textarea' | 'check';
  /** Write-only: a password input, never filled from the stored host. */
  secret?: boolean;
  /** The host's flag telling whether this secret is stored. */
  stored?: keyof Pick<
    Host,
    'hasTokenSecret' | 'hasPassword' | 'hasCaCert' | 'hasSshPrivateKey' | 'hasSshPassword'
  >;
  required?: boolean;
  min?: number;
  max?: number;
  placeholder?: string;
}

/**
 * The register/edit form of a Proxmox host, in the order an administrator fills it in, with
 * where on the Proxmox node each value is read: the API bounds are the OpenAPI document's.
 */
export const HOST_SECTIONS: { legend: string; intro?: string; fields: HostField[] }[] = [
  {
    legend: 'Proxmox API',
    fields: [
      {
        key: 'name',
        label: 'Name',
        kind: 'text',
        required: true,
        placeholder: 'homelab',
        hint: 'How Proximity calls this host; up to 64 characters.',
      },
      {
        key: 'host',
        label: 'Address',
        kind: 'text',
        required: true,
        placeholder: 'pve.lan',
        hint: 'DNS name, IPv4 or IPv6 address of a node; no https://, port or path.',
      },
      {
        key: 'port',
        label: 'API port',
        kind: 'number',
        min: 1,
        max: 65535,
        placeholder: '8006',
        hint: 'The port of the Proxmox web interface and API; 8006 when left empty.',
      },
    ],
  },
  {
    legend: 'Credentials',
    intro:
      'Use an API token (recommended: it can be revoked alone and needs no password), or a user name and password.',
    fields: [
      {
        key: 'tokenId',
        label: 'API token ID',
        kind: 'text',
        placeholder: 'root@pam!proximity',
        hint: 'user@realm!tokenname, created under Datacenter → Permissions → API Tokens (or pveum user token add root@pam proximity --privsep 0).',
      },
      {
        key: 'tokenSecret',
        label: 'API token secret',
        kind: 'text',
        secret: true,
        stored: 'hasTokenSecret',
        hint: 'The UUID Proxmox shows once when the token is created.',
      },
      {
        key: 'username',
        label: 'User name',
        kind: 'text',
        placeholder: 'root@pam',
        hint: 'Instead of a token: user@realm.',
      },
      {
        key: 'password',
        label: 'Password',
        kind: 'text',
        secret: true,
        stored: 'hasPassword',
        hint: 'The password of that user.',
      },
    ],
  },
  {
    legend: 'TLS (how Proximity recognises the API)',
    intro: 'Give the certificate fingerprint or the CA certificate; skipping the check is unsafe.',
    fields: [
      {
        key: 'tlsFingerprint',
        label: 'TLS certificate fingerprint (SHA-256)',
        kind: 'text',
        placeholder: 'AA:BB:…',
        hint: 'On the node: pvenode cert info --output-format json (the "fingerprint" of pve-ssl.pem), or openssl x509 -noout -fingerprint -sha256 -in /etc/pve/local/pve-ssl.pem.',
      },
      {
        key: 'caCert',
        label: 'CA certificate (PEM)',
        kind: 'textarea',
        stored: 'hasCaCert',
        hint: 'Instead of the fingerprint: the CA that signed the API certificate, -----BEGIN CERTIFICATE----- included (/etc/pve/pve-root-ca.pem for the Proxmox CA).',
      },
      {
        key: 'tlsInsecure',
        label: 'Skip TLS verification (unsafe)',
        kind: 'check',
        hint: 'Anyone between Proximity and Proxmox could read the credentials. Only for a test lab.',
      },
    ],
  },
  {
    legend: 'SSH (runs commands inside the containers)',
    fields: [
      {
        key: 'sshHost',
        label: 'SSH address',
        kind: 'text',
        hint: 'Leave empty to use the API address.',
      },
      {
        key: 'sshPort',
        label: 'SSH port',
        kind: 'number',
        min: 1,
        max: 65535,
        placeholder: '22',
        hint: '22 when left empty.',
      },
      {
        key: 'sshUser',
        label: 'SSH user',
        kind: 'text',
        placeholder: 'root',
        hint: 'root when left empty; it runs pct on the node.',
      },
      {
        key: 'sshPrivateKey',
        label: 'SSH private key',
        kind: 'textarea',
        secret: true,
        stored: 'hasSshPrivateKey',
        hint: 'OpenSSH or PEM, without a passphrase; its public key goes in ~/.ssh/authorized_keys on the node.',
      },
      {
        key: 'sshPassword',
        label: 'SSH password',
        kind: 'text',
        secret: true,
        stored: 'hasSshPassword',
        hint: 'Instead of a key.',
      },
      {
        key: 'sshHostKeyFingerprint',
        label: 'SSH host key fingerprint',
        kind: 'text',
        placeholder: 'SHA256:…',
        hint: 'On the node: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub (the SHA256:… part).',
      },
      {
        key: 'sshInsecure',
        label: 'Accept any SSH host key (unsafe)',
        kind: 'check',
        hint: 'Proximity could send its SSH credentials to an impostor. Only for a test lab.',
      },
    ],
  },
  {
    legend: 'Where containers go',
    fields: [
      {
        key: 'storage',
        label: 'Storage',
        kind: 'text',
        placeholder: 'local-lvm',
        hint: 'Storage for the containers’ disks (pvesm status lists them); local-lvm when left empty.',
      },
      {
        key: 'backupStorage',
        label: 'Backup storage',
        kind: 'text',
        placeholder: 'local',
        hint: 'Storage for backups (content type "backup"); local when left empty.',
      },
      {
        key: 'bridge',
        label: 'Network bridge',
        kind: 'text',
        placeholder: 'vmbr0',
        hint: 'The bridge the containers join; vmbr0 when left empty.',
      },
      {
        key: 'template',
        label: 'Template',
        kind: 'text',
        placeholder: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
        hint: 'The container template (pveam list local); the Debian 12 standard template when left empty.',
      },
      {
        key: 'vmidMin',
        label: 'First VMID',
        kind: 'number',
        min: 100,
        max: 999999999,
        hint: 'Proximity uses only VMIDs in this range (100–999999999). With both empty: the first free block of 10,000 from 10000.',
      },
      {
        key: 'vmidMax',
        label: 'Last VMID',
        kind: 'number',
        min: 100,
        max: 999999999,
        hint: 'The end of that range.',
      },
      {
        key: 'portMin',
        label: 'First public port',
        kind: 'number',
        min: 1024,
        max: 65535,
        placeholder: '30000',
        hint: 'Apps are reached on ports of this pool, forwarded from the node (1024–65535).',
      },
      {
        key: 'portMax',
        label: 'Last public port',
        kind: 'number',
        min: 1024,
        max: 65535,
        placeholder: '32767',
        hint: 'The end of the pool.',
      },
      {
        key: 'isDefault',
        label: 'Default host for new apps',
        kind: 'check',
        hint: 'New deployments go to the default host.',
      },
    ],
  },
];
