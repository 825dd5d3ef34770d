import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { LogLevel } from '../../operations/deployment-log.entity';
import { StepRunner } from '../../operations/step-runner';
import { ForwardingRules } from '../../ports/forwarding-rules';
import { ApplicationAllocator } from '../allocation/application-allocator';
import { DeployCompensation } from '../deploy/deploy-compensation';
import { describeFailure, rawFailure } from '../deploy/deploy-wording';
import type { AdoptedPlan } from './adopted-plan.builder';

export const UNFORWARD_FAILED =
  'removing its forwarding rules failed as well, so its ports stay reserved';

/**
 * Ends an adoption that will not succeed: removes the forwarding rules it
 * may have programmed and gives the ports and the VMID back (the container
 * can be adopted again). The container itself is never stopped nor
 * destroyed: it was never Proximity's.
 */
@Injectable()
export class AdoptCompensation {
  constructor(
    @InjectPinoLogger(AdoptCompensation.name) private readonly logger: PinoLogger,
    private readonly runner: StepRunner,
    private readonly forwarding: ForwardingRules,
    private readonly allocator: ApplicationAllocator,
    private readonly deploy: DeployCompensation,
  ) {}

  async compensate(plan: AdoptedPlan, operationId: string, message: string): Promise<void> {
    const log = { operationId, applicationId: plan.applicationId, secrets: [] };
    try {
      await this.forwarding.remove(plan.target.shell, plan.applicationId);
      await this.runner.log(log, 'remove_forwarding', LogLevel.Info, 'remove_forwarding done');
    } catch (err) {
      this.logger.warn({ operationId, failure: rawFailure(err, []) }, 'adopt cleanup failed');
      await this.runner.log(
        log,
        'remove_forwarding',
        LogLevel.Error,
        `remove_forwarding failed: ${describeFailure(err)}`,
      );
      await this.deploy.markFailed(
        plan.applicationId,
        operationId,
        `${message}; ${UNFORWARD_FAILED}`,
        true,
      );
      return;
    }
    await this.allocator.release(plan.applicationId);
    await this.deploy.markFailed(plan.applicationId, operationId, message, true);
  }
}
