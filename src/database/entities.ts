import { Application } from '../applications/application.entity';
import { Backup } from '../backups/backup.entity';
import { BackupSchedule } from '../backups/schedule/backup-schedule.entity';
import { AuditEntry } from '../audit/audit-entry.entity';
import { ApiToken } from '../auth/api-token.entity';
import { DeploymentLog } from '../operations/deployment-log.entity';
import { Operation } from '../operations/operation.entity';
import { PortAllocation } from '../ports/port-allocation.entity';
import { RefreshToken } from '../sessions/refresh-token.entity';
import { ProxmoxHost } from '../proxmox/hosts/proxmox-host.entity';
import { ProxmoxNode } from '../proxmox/hosts/proxmox-node.entity';
import { Settings } from '../settings/settings.entity';
import { User } from '../users/user.entity';

/** Every entity, listed explicitly: no folder scanning that differs between ts and js. */
export const ENTITIES = [
  User,
  RefreshToken,
  ApiToken,
  AuditEntry,
  Settings,
  ProxmoxHost,
  ProxmoxNode,
  Application,
  PortAllocation,
  Operation,
  DeploymentLog,
  Backup,
  BackupSchedule,
];
