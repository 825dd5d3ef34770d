import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Application } from '../applications/application.entity';
import type { Principal } from '../common/auth/principal';
import { DomainError } from '../common/errors/domain-error';
import { type Page, type PaginationQuery, pageOf } from '../common/pagination/pagination';
import { Backup } from './backup.entity';

/** Backups as their application's owner (or an admin) reads them; a foreign app is a 404. */
@Injectable()
export class BackupReader {
  constructor(private readonly em: EntityManager) {}

  async page(applicationId: string, principal: Principal, query: PaginationQuery) {
    const em = this.em.fork();
    await em.getRepository(Application).findOwned(applicationId, principal);
    const [items, total] = await em.findAndCount(
      Backup,
      { application: applicationId },
      { orderBy: { createdAt: 'desc', id: 'desc' }, limit: query.perPage, offset: query.offset },
    );
    return pageOf(items, total, query) satisfies Page<Backup>;
  }

  async one(applicationId: string, backupId: string, principal: Principal): Promise<Backup> {
    const em = this.em.fork();
    await em.getRepository(Application).findOwned(applicationId, principal);
    const backup = await em.findOne(Backup, { id: backupId, application: applicationId });
    if (!backup) throw DomainError.notFound('Backup');
    return backup;
  }
}
