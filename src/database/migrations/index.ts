import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261129000000Initial } from './20261129000000-initial';
import { Migration20261129010000ProxmoxHosts } from './20261129010000-proxmox-hosts';
import { Migration20261130000000AuthHardening } from './20261130000000-auth-hardening';
import { Migration20261130010000HostConstraints } from './20261130010000-host-constraints';
import { Migration20261130120000Applications } from './20261130120000-applications';
import { Migration20261130130000ApplicationListOrder } from './20261130130000-application-list-order';
import { Migration20261130140000NodeAddress } from './20261130140000-node-address';
import { Migration20261130150000Backups } from './20261130150000-backups';
import { Migration20261130151000ApplicationClonedFrom } from './20261130151000-application-cloned-from';
import { Migration20261130152000AdoptedApplications } from './20261130152000-adopted-applications';
import { Migration20261130153000BackupSchedules } from './20261130153000-backup-schedules';

/** Applied in this order; a new migration is appended here. */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261129000000Initial', class: Migration20261129000000Initial },
  { name: 'Migration20261129010000ProxmoxHosts', class: Migration20261129010000ProxmoxHosts },
  { name: 'Migration20261130000000AuthHardening', class: Migration20261130000000AuthHardening },
  {
    name: 'Migration20261130010000HostConstraints',
    class: Migration20261130010000HostConstraints,
  },
  { name: 'Migration20261130120000Applications', class: Migration20261130120000Applications },
  {
    name: 'Migration20261130130000ApplicationListOrder',
    class: Migration20261130130000ApplicationListOrder,
  },
  { name: 'Migration20261130140000NodeAddress', class: Migration20261130140000NodeAddress },
  { name: 'Migration20261130150000Backups', class: Migration20261130150000Backups },
  {
    name: 'Migration20261130151000ApplicationClonedFrom',
    class: Migration20261130151000ApplicationClonedFrom,
  },
  {
    name: 'Migration20261130152000AdoptedApplications',
    class: Migration20261130152000AdoptedApplications,
  },
  {
    name: 'Migration20261130153000BackupSchedules',
    class: Migration20261130153000BackupSchedules,
  },
];
