import { Injectable } from '@nestjs/common';
import { ApplicationBackupsCleanup } from '../../backups/application-backups-cleanup';
import type { NamedStep } from '../../operations/step-runner';
import { OperationType } from '../../operations/operation.entity';
import { ContainerSteps } from '../deploy/container.steps';
import { type DeployPlan, type DeployState, DeploySteps } from '../deploy/deploy.steps';

export type LifecycleStep = NamedStep<DeployPlan, DeployState>;

export type LifecycleType =
  OperationType.Start | OperationType.Stop | OperationType.Restart | OperationType.Delete;

/**
 * The steps of each lifecycle operation, made of the deploy job's own
 * (idempotent) steps: a start brings the services back, checks them as after
 * a deploy and re-points the forwarding at the address the container has now.
 */
@Injectable()
export class LifecycleSteps {
  private readonly plans: Record<LifecycleType, readonly LifecycleStep[]>;

  constructor(deploy: DeploySteps, container: ContainerSteps, backups: ApplicationBackupsCleanup) {
    const named = new Map<string, LifecycleStep>(deploy.steps.map((s) => [s.name, s]));
    for (const undo of deploy.compensation) {
      named.set(undo.name, {
        name: undo.name,
        run: async (plan, state) => {
          await undo.run(plan);
          return state;
        },
      });
    }
    named.set('stop_container', {
      name: 'stop_container',
      run: async (plan, state) => {
        await container.stopContainer(plan);
        return state;
      },
    });
    // After the container is gone: a failure here leaves the app in error, and a retried delete
    // takes the container and the archives removed so far as done.
    named.set('delete_backups', {
      name: 'delete_backups',
      run: async (plan, state) => {
        await backups.run(plan.applicationId, plan.target);
        return state;
      },
    });
    const pick = (...names: string[]): LifecycleStep[] =>
      names.map((name) => {
        const step = named.get(name);
        if (!step) throw new Error(`no step named ${name}`);
        return step;
      });
    const start = ['start_container', 'wait_for_address', 'verify', 'forward_ports'];
    this.plans = {
      [OperationType.Start]: pick(...start),
      [OperationType.Stop]: pick('stop_container'),
      [OperationType.Restart]: pick('stop_container', ...start),
      // The deploy's own compensation: it stops a running container itself and
      // takes a container that is already gone as done. Then the backup archives,
      // unless the delete keeps them.
      [OperationType.Delete]: pick('remove_forwarding', 'destroy_container', 'delete_backups'),
    };
  }

  of(type: LifecycleType): readonly LifecycleStep[] {
    return this.plans[type];
  }
}
