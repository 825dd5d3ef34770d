/** The states of API.md: every transitional state ends in running, stopped or error. */
export enum ApplicationStatus {
  Deploying = 'deploying',
  Running = 'running',
  Stopped = 'stopped',
  Starting = 'starting',
  Stopping = 'stopping',
  Restarting = 'restarting',
  Cloning = 'cloning',
  Restoring = 'restoring',
  Removing = 'removing',
  Adopting = 'adopting',
  Error = 'error',
}

/**
 * Statuses whose hostname is free for another application. A row in one of
 * them only leaves it for deletion or, on an explicit action, a live state,
 * where the unique index decides again (409 when it was taken meanwhile).
 */
export const RELEASED_STATUSES = [ApplicationStatus.Error, ApplicationStatus.Removing] as const;

/** The SQL list of RELEASED_STATUSES, for the unique index and the availability query. */
export const RELEASED_STATUSES_SQL = RELEASED_STATUSES.map((status) => `'${status}'`).join(', ');
