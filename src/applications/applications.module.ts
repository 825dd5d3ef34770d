import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { ProxmoxModule } from '../proxmox/proxmox.module';
import { OperationsController } from '../operations/operations.controller';
import { OperationsService } from '../operations/operations.service';
import { PortsController } from '../ports/ports.controller';
import { PortsService } from '../ports/ports.service';
import { AdoptRequests } from './adopt/adopt-request.service';
import { AdoptionsController } from './adopt/adoptions.controller';
import { AdoptQueue } from './adopt/adopt.queue';
import { AdoptionAllocator } from './adopt/adoption-allocator';
import { ContainerDiscovery } from './adopt/container-discovery.service';
import { ApplicationAllocator } from './allocation/application-allocator';
import { LiveNodes } from './allocation/live-nodes';
import { CloneRequests } from './clone/clone-request.service';
import { DeployQueueModule } from './deploy/deploy.module';
import { DeployRequests } from './deploy/deploy-request.service';
import { LifecycleQueueModule } from './lifecycle/lifecycle.module';
import { LifecycleRequests } from './lifecycle/lifecycle-request.service';
import { Application } from './application.entity';
import { ApplicationListReader } from './application-list.reader';
import { ApplicationsController } from './applications.controller';
import { ApplicationsService } from './applications.service';

/**
 * Applications with what they hold: their operations and logs, and their
 * public ports. One module, as each of them is read through its application.
 */
@Module({
  imports: [
    MikroOrmModule.forFeature([Application]),
    DeployQueueModule,
    LifecycleQueueModule,
    ProxmoxModule,
    CatalogModule,
  ],
  // Adoptions first: their static paths must be matched before /api/apps/:id.
  controllers: [AdoptionsController, ApplicationsController, OperationsController, PortsController],
  providers: [
    ApplicationAllocator,
    ApplicationsService,
    ApplicationListReader,
    OperationsService,
    PortsService,
    LiveNodes,
    DeployRequests,
    LifecycleRequests,
    ContainerDiscovery,
    AdoptionAllocator,
    AdoptQueue,
    AdoptRequests,
    CloneRequests,
  ],
  exports: [ApplicationAllocator, ApplicationsService, OperationsService],
})
export class ApplicationsModule {}
