import { Injectable } from '@nestjs/common';
import type { NamedStep } from '../../operations/step-runner';
import { ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import {
  applicationDescription,
  applicationTag,
  PROXIMITY_TAG,
} from '../deploy/container-ownership';
import { ContainerSteps } from '../deploy/container.steps';
import { type DeployPlan, type DeployState, DeploySteps } from '../deploy/deploy.steps';
import { DeployTimings } from '../deploy/deploy-timings';
import { SourceSnapshot, type SourceSnapshotInput, waitingOutLocks } from './source-snapshot';

/** The clone job's steps, in order; the operation records the last one done. */
export const CLONE_STEP_NAMES = [
  'snapshot_source',
  'clone_container',
  'remove_snapshot',
  'configure',
  'start_container',
  'wait_for_address',
  'verify',
  'forward_ports',
] as const;
export type CloneStepName = (typeof CLONE_STEP_NAMES)[number];

/** A deployment's plan for the new application, with the container it copies. */
export interface ClonePlan extends DeployPlan {
  sourceVmid: number;
  /** The temporary snapshot's name, taken only when the source runs. */
  snapshotName: string;
}

export type CloneStep = NamedStep<ClonePlan, DeployState>;

/** Tags a Proximity container carries for an application (`proximity-<uuid>`). */
const APPLICATION_TAG = /^proximity-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The clone's tags: it carries the source's, so the source's ownership tag is
 * replaced by this application's; tags an admin added stay.
 */
export function cloneTags(sourceTags: string | undefined, applicationId: string): string[] {
  const kept = (sourceTags ?? '')
    .split(/[;, ]+/)
    .filter((tag) => tag !== '' && tag !== PROXIMITY_TAG && !APPLICATION_TAG.test(tag));
  return [PROXIMITY_TAG, applicationTag(applicationId), ...kept];
}

export function snapshotOf(plan: ClonePlan): SourceSnapshotInput {
  return {
    target: plan.target,
    source: { node: plan.target.node, vmid: plan.sourceVmid },
    name: plan.snapshotName,
  };
}

/**
 * The named steps of a clone: the source's snapshot (a running source only),
 * the full clone, the snapshot removed as soon as the clone task ended, the
 * clone relabelled as the new application's, then the deploy job's own
 * start, address, check and forwarding steps. Each is idempotent.
 */
@Injectable()
export class CloneSteps {
  readonly steps: readonly CloneStep[];

  constructor(
    deploy: DeploySteps,
    container: ContainerSteps,
    snapshot: SourceSnapshot,
    gateway: ProxmoxGateway,
    timings: DeployTimings,
  ) {
    const own: Record<Exclude<CloneStepName, DeployStepReused>, CloneStep['run']> = {
      snapshot_source: async (plan, state) => {
        await snapshot.take(snapshotOf(plan));
        return state;
      },
      clone_container: async (plan, state) => {
        const from = await snapshot.find(snapshotOf(plan));
        await waitingOutLocks(timings, () =>
          container.cloneContainer({
            target: plan.target,
            applicationId: plan.applicationId,
            vmid: plan.vmid,
            sourceVmid: plan.sourceVmid,
            hostname: plan.hostname,
            storage: plan.container.storage,
            snapshot: from,
          }),
        );
        return state;
      },
      remove_snapshot: async (plan, state) => {
        await snapshot.remove(snapshotOf(plan));
        return state;
      },
      configure: async (plan, state) => {
        const ref = { node: plan.target.node, vmid: plan.vmid };
        const config = await gateway.containerConfig(plan.target.connection, ref);
        await gateway.setContainerLabels(plan.target.connection, ref, {
          tags: cloneTags(config.tags, plan.applicationId),
          description: applicationDescription(plan.applicationId),
        });
        return state;
      },
    };
    const reused = new Map<string, CloneStep['run']>(deploy.steps.map((s) => [s.name, s.run]));
    this.steps = CLONE_STEP_NAMES.map((name) => {
      const run = name in own ? own[name as keyof typeof own] : reused.get(name);
      if (!run) throw new Error(`no step named ${name}`);
      return { name, run };
    });
  }
}

type DeployStepReused = 'start_container' | 'wait_for_address' | 'verify' | 'forward_ports';
