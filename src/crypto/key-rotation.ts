import type { EntityMetadata } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { EncryptedType } from '../database/types/encrypted.type';
import type { Keyring } from './keyring';

export interface EncryptedTable {
  table: string;
  primaryKey: string;
  columns: string[];
}

/** Every table with secret columns, from the entities' metadata: a new one is covered without a list to update. */
export function encryptedTables(metadata: EntityMetadata[]): EncryptedTable[] {
  return metadata
    .map((meta) => ({
      table: meta.tableName,
      primaryKey: meta.primaryKeys.map((pk) => meta.properties[pk].fieldNames[0])[0],
      columns: Object.values(meta.properties)
        .filter((prop) => prop.customType instanceof EncryptedType)
        .map((prop) => prop.fieldNames[0]),
    }))
    .filter((t) => t.columns.length > 0);
}

export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * Re-encrypts every secret column under the keyring's current key, one batch
 * per transaction. Only rows still sealed with another key are touched, so an
 * interrupted run simply resumes. Returns how many rows were rewritten.
 */
export async function rotateSecrets(
  orm: MikroORM,
  keyring: Keyring,
  batchSize = 100,
  onBatch: (table: string, rows: number) => void = () => undefined,
): Promise<number> {
  const current = `pxe1.${keyring.currentKeyId}.%`;
  let total = 0;
  for (const { table, primaryKey, columns } of encryptedTables(
    Object.values(orm.getMetadata().getAll()),
  )) {
    const stale = columns
      .map((c) => `(${ident(c)} is not null and ${ident(c)} not like ?)`)
      .join(' or ');
    for (;;) {
      const rewritten = await orm.em.fork().transactional(async (em) => {
        const rows = await em.execute<Record<string, string | null>[]>(
          `select ${[primaryKey, ...columns].map(ident).join(', ')} from ${ident(table)} where ${stale} order by ${ident(primaryKey)} limit ? for update`,
          [...columns.map(() => current), batchSize],
        );
        for (const row of rows) {
          const values = columns.map((c) => {
            const sealed = row[c];
            return sealed === null || keyring.isCurrent(sealed)
              ? sealed
              : keyring.encrypt(keyring.decrypt(sealed));
          });
          await em.execute(
            `update ${ident(table)} set ${columns.map((c) => `${ident(c)} = ?`).join(', ')} where ${ident(primaryKey)} = ?`,
            [...values, row[primaryKey]],
          );
        }
        return rows.length;
      });
      if (rewritten === 0) break;
      total += rewritten;
      onBatch(table, rewritten);
    }
  }
  return total;
}
