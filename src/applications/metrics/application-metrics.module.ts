import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { ProxmoxModule } from '../../proxmox/proxmox.module';
import { Application } from '../application.entity';
import { ApplicationMetricsController } from './application-metrics.controller';
import { ApplicationMetricsService } from './application-metrics.service';

/** `GET /api/apps/:id/metrics`: the one application read that goes to Proxmox. */
@Module({
  imports: [MikroOrmModule.forFeature([Application]), ProxmoxModule],
  controllers: [ApplicationMetricsController],
  providers: [ApplicationMetricsService],
})
export class ApplicationMetricsModule {}
