import { DomainError } from '../common/errors/domain-error';
import { ApplicationStatus as S } from './application-status';

/** What a user (or the system, for clone, backup and restore) may ask of an application. */
export enum ApplicationAction {
  Start = 'start',
  Stop = 'stop',
  Restart = 'restart',
  Delete = 'delete',
  Clone = 'clone',
  Backup = 'backup',
  Restore = 'restore',
}

/** Statuses that an operation holds; each ends in running, stopped or error. */
export const TRANSITIONAL_STATUSES: ReadonlySet<S> = new Set([
  S.Deploying,
  S.Starting,
  S.Stopping,
  S.Restarting,
  S.Cloning,
  S.Restoring,
  S.Removing,
  S.Adopting,
]);

/**
 * Every status change an application may make. A removal that succeeds
 * deletes the row, so `removing` has only its failure here. Running and
 * stopped may also change into each other or into error when a reconcile
 * finds the container so.
 */
const TRANSITIONS: Readonly<Record<S, readonly S[]>> = {
  [S.Deploying]: [S.Running, S.Error],
  [S.Starting]: [S.Running, S.Error],
  [S.Stopping]: [S.Stopped, S.Error],
  [S.Restarting]: [S.Running, S.Error],
  [S.Cloning]: [S.Running, S.Error],
  [S.Restoring]: [S.Running, S.Stopped, S.Error],
  [S.Adopting]: [S.Running, S.Stopped, S.Error],
  [S.Removing]: [S.Error],
  [S.Running]: [S.Stopping, S.Restarting, S.Removing, S.Restoring, S.Stopped, S.Error],
  [S.Stopped]: [S.Starting, S.Removing, S.Restoring, S.Running, S.Error],
  [S.Error]: [S.Starting, S.Stopping, S.Restarting, S.Removing, S.Restoring],
};

interface ActionRule {
  /** Statuses the action may start from. */
  from: readonly S[];
  /** The status the application shows from the 202 on; null when the action leaves it as is. */
  to: S | null;
}

const ACTIONS: Readonly<Record<ApplicationAction, ActionRule>> = {
  [ApplicationAction.Start]: { from: [S.Stopped, S.Error], to: S.Starting },
  [ApplicationAction.Stop]: { from: [S.Running, S.Error], to: S.Stopping },
  [ApplicationAction.Restart]: { from: [S.Running, S.Error], to: S.Restarting },
  [ApplicationAction.Delete]: { from: [S.Running, S.Stopped, S.Error], to: S.Removing },
  // The source of a clone or a backup keeps its status; the clone is a new application.
  [ApplicationAction.Clone]: { from: [S.Running, S.Stopped], to: null },
  [ApplicationAction.Backup]: { from: [S.Running, S.Stopped], to: null },
  [ApplicationAction.Restore]: { from: [S.Running, S.Stopped, S.Error], to: S.Restoring },
};

export function canTransition(from: S, to: S): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Why an action is refused, in words for the caller. */
function refusal(hostname: string, status: S, action: ApplicationAction): string {
  const app = `application '${hostname}'`;
  if (TRANSITIONAL_STATUSES.has(status)) {
    return `${app} is ${status}; try again when that has finished`;
  }
  if (action === ApplicationAction.Start && status === S.Running)
    return `${app} is already running`;
  if (action === ApplicationAction.Stop && status === S.Stopped) return `${app} is already stopped`;
  if (action === ApplicationAction.Restart && status === S.Stopped) {
    return `${app} is stopped; start it instead`;
  }
  return `cannot ${action} ${app} while it is in ${status}`;
}

/**
 * The status an application shows once `action` is accepted (null: unchanged);
 * a 409 with the reason when its current status forbids the action.
 */
export function statusAfter(
  app: { hostname: string; status: S; vmid: number | null },
  action: ApplicationAction,
): S | null {
  const rule = ACTIONS[action];
  if (!rule.from.includes(app.status)) {
    throw DomainError.conflict(refusal(app.hostname, app.status, action));
  }
  // A deploy that failed for good gave its container and VMID back: only a delete has
  // anything left to act on, and a job for the rest would fail on Proxmox.
  if (app.vmid === null && action !== ApplicationAction.Delete) {
    throw DomainError.conflict(
      `application '${app.hostname}' has no container (its deployment failed); delete it and deploy again`,
    );
  }
  return rule.to;
}
