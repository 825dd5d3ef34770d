import type { Provider } from '@nestjs/common';
import { AdoptCompensation } from './adopt-compensation';
import { AdoptProcessor } from './adopt.processor';
import { AdoptedPlanBuilder } from './adopted-plan.builder';
import { AdoptedSteps } from './adopted.steps';

/** The adopt worker's providers, run beside the lifecycle worker on its queue. */
export const ADOPT_WORK: Provider[] = [
  AdoptedPlanBuilder,
  AdoptedSteps,
  AdoptCompensation,
  AdoptProcessor,
];
