import { Module } from '@nestjs/common';
import { DeployWorkModule } from '../applications/deploy/deploy-work.module';
import { ApplicationBackupsCleanup } from './application-backups-cleanup';
import { BackupArchives } from './backup-archives';

/** Removing backup archives, for the backup worker and the application delete. */
@Module({
  imports: [DeployWorkModule],
  providers: [BackupArchives, ApplicationBackupsCleanup],
  exports: [BackupArchives, ApplicationBackupsCleanup],
})
export class BackupArchivesModule {}
