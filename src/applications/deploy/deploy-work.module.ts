import { Module } from '@nestjs/common';
import { CatalogModule } from '../../catalog/catalog.module';
import { StepRunner } from '../../operations/step-runner';
import { ProxmoxModule } from '../../proxmox/proxmox.module';
import { ApplicationAllocator } from '../allocation/application-allocator';
import { DeployCompensation } from './deploy-compensation';
import { DeployOutcome } from './deploy-outcome';
import { DeployPlanBuilder } from './deploy-plan.builder';
import { DEPLOY_STEP_PROVIDERS } from './deploy-steps.providers';
import { NodeAddress } from './node-address';

const DEPLOY_WORK = [
  ...DEPLOY_STEP_PROVIDERS,
  StepRunner,
  DeployPlanBuilder,
  ApplicationAllocator,
  NodeAddress,
  DeployCompensation,
  DeployOutcome,
];

/**
 * What every worker that runs or undoes deployment steps shares (the deploy,
 * lifecycle and maintenance workers): the steps, the step runner, plans,
 * allocation and compensation, one set per process, with the Proxmox and
 * catalog services they use.
 */
@Module({
  imports: [ProxmoxModule, CatalogModule],
  providers: DEPLOY_WORK,
  exports: [...DEPLOY_WORK, ProxmoxModule, CatalogModule],
})
export class DeployWorkModule {}
