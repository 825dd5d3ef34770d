import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { OperationsController } from '../operations/operations.controller';
import { OperationsService } from '../operations/operations.service';
import { PortsController } from '../ports/ports.controller';
import { PortsService } from '../ports/ports.service';
import { ApplicationAllocator } from './allocation/application-allocator';
import { Application } from './application.entity';
import { ApplicationsController } from './applications.controller';
import { ApplicationsService } from './applications.service';

/**
 * Applications with what they hold: their operations and logs, and their
 * public ports. One module, as each of them is read through its application.
 */
@Module({
  imports: [MikroOrmModule.forFeature([Application])],
  controllers: [ApplicationsController, OperationsController, PortsController],
  providers: [ApplicationAllocator, ApplicationsService, OperationsService, PortsService],
  exports: [ApplicationAllocator, ApplicationsService, OperationsService],
})
export class ApplicationsModule {}
