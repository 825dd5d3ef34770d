import { Module } from '@nestjs/common';
import { ApplicationAllocator } from './allocation/application-allocator';

@Module({
  providers: [ApplicationAllocator],
  exports: [ApplicationAllocator],
})
export class ApplicationsModule {}
