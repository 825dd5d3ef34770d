import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { encryptedTables, ident } from './key-rotation';

/** Names the variable to set; never a key or a ciphertext, only the public key ids. */
export class UnknownEncryptionKeyError extends Error {
  constructor(readonly keyIds: string[]) {
    super(
      `stored secrets are sealed with a key that is not configured (key id ${keyIds.join(', ')}): ` +
        'add that key to PROXIMITY_ENCRYPTION_KEYS_OLD (comma-separated), ' +
        'then run "keys:rotate" to re-seal them under PROXIMITY_ENCRYPTION_KEY',
    );
    this.name = 'UnknownEncryptionKeyError';
  }
}

/** The id of every key that sealed a stored secret: one DISTINCT per secret column, nothing decrypted. */
export async function storedKeyIds(em: EntityManager): Promise<string[]> {
  const selects = encryptedTables(Object.values(em.getMetadata().getAll())).flatMap(
    ({ table, columns }) =>
      columns.map(
        (c) =>
          `select distinct split_part(${ident(c)}, '.', 2) as key_id from ${ident(table)} where ${ident(c)} like 'pxe1.%'`,
      ),
  );
  if (selects.length === 0) return [];
  const rows = await em.fork().execute<{ key_id: string }[]>(selects.join(' union '));
  return rows.map((row) => row.key_id);
}

/**
 * Refuses to start when the configured keys cannot open what is stored (an
 * env file regenerated over an existing database, a key dropped too early
 * after a rotation): otherwise every call needing a secret would fail later.
 * A single damaged ciphertext under a known key does not stop the start; it
 * fails only the calls that need it. Run by createApp before the modules
 * start, not as a module hook (see there).
 */
@Injectable()
export class EncryptionKeysCheck {
  constructor(
    private readonly em: EntityManager,
    private readonly config: AppConfig,
  ) {}

  async verify(): Promise<void> {
    const unknown = (await storedKeyIds(this.em)).filter((id) => !this.config.keyring.knowsKey(id));
    if (unknown.length > 0) throw new UnknownEncryptionKeyError(unknown.sort());
  }
}
