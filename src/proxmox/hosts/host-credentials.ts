import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { DomainError } from '../../common/errors/domain-error';
import { AppConfig } from '../../config/app-config';
import { type Sealed, SecretDecryptionError } from '../../crypto/keyring';
import type { UpdateHostBody } from './hosts.dto';
import type { ProxmoxHost } from './proxmox-host.entity';

export const HOST_SECRET_FIELDS = [
  'tokenSecret',
  'password',
  'sshPrivateKey',
  'sshPassword',
] as const;
export type HostSecretField = (typeof HOST_SECRET_FIELDS)[number];

/** A change to a host with every secret it carries already sealed. */
export type SealedHostChanges = Omit<UpdateHostBody, HostSecretField> &
  Partial<Record<HostSecretField, Sealed>>;

/** Said to the caller: which key failed, or how, is for the server log only. */
export const UNDECRYPTABLE_CREDENTIAL =
  'a stored credential of this host cannot be decrypted; set it again';

/**
 * Seals a host's secrets on the way in and opens them one at a time, only
 * where a connection is built: a secret that no longer opens (damaged, or
 * sealed with a key that is not configured) fails that call alone, never
 * reading, listing, changing or deleting the host.
 */
@Injectable()
export class HostCredentials {
  constructor(
    @InjectPinoLogger(HostCredentials.name) private readonly logger: PinoLogger,
    private readonly config: AppConfig,
  ) {}

  seal(body: UpdateHostBody): SealedHostChanges {
    const sealed: SealedHostChanges = { ...body } as SealedHostChanges;
    for (const field of HOST_SECRET_FIELDS) {
      const plaintext = body[field];
      if (plaintext !== undefined) sealed[field] = this.config.keyring.encrypt(plaintext);
    }
    return sealed;
  }

  /** The plaintext of one secret, null when the host has none; a conflict (409) when it does not open. */
  open(host: ProxmoxHost, field: HostSecretField): string | null {
    const sealed = host[field];
    if (sealed === null) return null;
    try {
      return this.config.keyring.decrypt(sealed);
    } catch (err) {
      if (!(err instanceof SecretDecryptionError)) throw err;
      this.logger.warn(
        { hostId: host.id, field, reason: err.message },
        'a stored credential cannot be decrypted',
      );
      throw DomainError.conflict(UNDECRYPTABLE_CREDENTIAL);
    }
  }
}
