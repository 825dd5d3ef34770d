import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AuditAction } from '../audit/audit-actions';
import { AuditService } from '../audit/audit.service';
import { type Actor, actorId } from '../common/auth/actor';
import type { Principal } from '../common/auth/principal';
import { DomainError } from '../common/errors/domain-error';
import { AppConfig } from '../config/app-config';
import { SecretDecryptionError } from '../crypto/keyring';
import { DeploymentLog } from '../operations/deployment-log.entity';
import { decodeCursor, encodeCursor } from '../operations/log-cursor';
import type { Operation } from '../operations/operation.entity';
import { OperationsService } from '../operations/operations.service';
import type { Application } from './application.entity';
import { ApplicationRepository } from './application.repository';

/** An application with its current operation, as every read answers it. */
export interface ApplicationView {
  application: Application;
  operation: Operation | null;
}

export interface LogSlice {
  items: DeploymentLog[];
  nextCursor: string | null;
}

export interface HostnameAvailability {
  hostname: string;
  available: boolean;
  reason?: string;
}

export const HOSTNAME_TAKEN = 'this hostname is taken by another application';

export const UNDECRYPTABLE_ROOT_PASSWORD =
  'the stored root password of this application cannot be decrypted';

@Injectable()
export class ApplicationsService {
  constructor(
    @InjectPinoLogger(ApplicationsService.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly applications: ApplicationRepository,
    private readonly operations: OperationsService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  async get(id: string, principal: Principal): Promise<ApplicationView> {
    const application = await this.applications.findOwned(id, principal);
    const current = await this.operations.currentOf([id]);
    return { application, operation: current.get(id) ?? null };
  }

  /**
   * Whether a deploy or clone could take the hostname now. It answers for every
   * owner's applications, since hostnames are unique across all of them, and
   * says nothing of the one holding it.
   */
  async hostnameAvailability(hostname: string): Promise<HostnameAvailability> {
    if (await this.applications.hostnameTaken(hostname)) {
      return { hostname, available: false, reason: HOSTNAME_TAKEN };
    }
    return { hostname, available: true };
  }

  /** Newest first, `limit` lines older than the cursor. */
  async logs(
    id: string,
    principal: Principal,
    limit: number,
    before: string | undefined,
  ): Promise<LogSlice> {
    const cursor = before === undefined ? null : decodeCursor(before);
    const application = await this.applications.findOwned(id, principal);
    const rows = await this.em.find(
      DeploymentLog,
      {
        application,
        ...(cursor
          ? { $or: [{ at: { $lt: cursor.at } }, { at: cursor.at, id: { $lt: cursor.id } }] }
          : {}),
      },
      { orderBy: [{ at: 'desc' }, { id: 'desc' }], limit: limit + 1 },
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.at, id: last.id }) : null,
    };
  }

  /** The owner's root password (admins get the same 404 as anyone else); every read audited. */
  async credentials(id: string, actor: Actor & { principal: Principal }): Promise<string | null> {
    const application = await this.applications.findOwned(id, actor.principal, 'owner-only');
    let rootPassword: string | null = null;
    if (application.rootPassword !== null) {
      try {
        rootPassword = this.config.keyring.decrypt(application.rootPassword);
      } catch (err) {
        if (!(err instanceof SecretDecryptionError)) throw err;
        this.logger.warn(
          { applicationId: id, reason: err.message },
          'a root password cannot be decrypted',
        );
        throw DomainError.conflict(UNDECRYPTABLE_ROOT_PASSWORD);
      }
    }
    await this.audit.record({
      actorId: actorId(actor),
      action: AuditAction.ApplicationCredentialsRead,
      resourceType: 'application',
      resourceId: id,
      ip: actor.ip,
    });
    return rootPassword;
  }
}
