import { DomainError, ErrorCode } from '../common/errors/domain-error';
import {
  ApplicationAction as A,
  canTransition,
  statusAfter,
  TRANSITIONAL_STATUSES,
} from './application-state-machine';
import { ApplicationStatus as S } from './application-status';

const ALL_STATUSES = Object.values(S);
const ALL_ACTIONS = Object.values(A);

function refusalOf(status: S, action: A): DomainError {
  try {
    statusAfter({ hostname: 'wiki', status, vmid: 100 }, action);
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error(`${action} from ${status} was accepted`);
}

describe('application state machine', () => {
  it('lets every transitional status end only in running, stopped or error', () => {
    for (const status of TRANSITIONAL_STATUSES) {
      const ends = ALL_STATUSES.filter((to) => canTransition(status, to));
      expect({
        status,
        ends: ends.filter((e) => ![S.Running, S.Stopped, S.Error].includes(e)),
      }).toEqual({ status, ends: [] });
      expect(ends).toContain(S.Error);
    }
  });

  it('answers every action in a transitional status with a 409 that names the status', () => {
    for (const status of TRANSITIONAL_STATUSES) {
      for (const action of ALL_ACTIONS) {
        const err = refusalOf(status, action);
        expect(err.code).toBe(ErrorCode.Conflict);
        expect(err.message).toBe(
          `application 'wiki' is ${status}; try again when that has finished`,
        );
      }
    }
  });

  it.each([
    [S.Stopped, A.Start, S.Starting],
    [S.Error, A.Start, S.Starting],
    [S.Running, A.Stop, S.Stopping],
    [S.Error, A.Stop, S.Stopping],
    [S.Running, A.Restart, S.Restarting],
    [S.Error, A.Restart, S.Restarting],
    [S.Running, A.Delete, S.Removing],
    [S.Stopped, A.Delete, S.Removing],
    [S.Error, A.Delete, S.Removing],
    [S.Running, A.Restore, S.Restoring],
    [S.Stopped, A.Restore, S.Restoring],
    [S.Error, A.Restore, S.Restoring],
    [S.Running, A.Clone, null],
    [S.Stopped, A.Backup, null],
  ])('from %s, %s shows %s', (from, action, to) => {
    expect(statusAfter({ hostname: 'wiki', status: from, vmid: 100 }, action)).toBe(to);
    if (to !== null) expect(canTransition(from, to)).toBe(true);
  });

  it.each([
    [S.Running, A.Start, "application 'wiki' is already running"],
    [S.Stopped, A.Stop, "application 'wiki' is already stopped"],
    [S.Stopped, A.Restart, "application 'wiki' is stopped; start it instead"],
    [S.Error, A.Clone, "cannot clone application 'wiki' while it is in error"],
    [S.Error, A.Backup, "cannot backup application 'wiki' while it is in error"],
  ])('from %s, %s is a 409: %s', (from, action, message) => {
    const err = refusalOf(from, action);
    expect({ code: err.code, message: err.message }).toEqual({ code: ErrorCode.Conflict, message });
  });

  it.each([A.Start, A.Stop, A.Restart, A.Restore])(
    'from error without a container (a failed deploy gave it back), %s is a 409; delete is not',
    (action) => {
      const app = { hostname: 'wiki', status: S.Error, vmid: null };
      expect(() => statusAfter(app, action)).toThrow(
        "application 'wiki' has no container (its deployment failed); delete it and deploy again",
      );
      expect(statusAfter(app, A.Delete)).toBe(S.Removing);
    },
  );

  it('accepts an action only where the resulting transition is allowed', () => {
    for (const status of ALL_STATUSES) {
      for (const action of ALL_ACTIONS) {
        let to: S | null | undefined;
        try {
          to = statusAfter({ hostname: 'wiki', status, vmid: 100 }, action);
        } catch {
          continue;
        }
        if (to !== null)
          expect({ status, action, ok: canTransition(status, to) }).toEqual({
            status,
            action,
            ok: true,
          });
      }
    }
  });

  it('never leaves a removal for a live status: its only way out but deletion is error', () => {
    expect(ALL_STATUSES.filter((to) => canTransition(S.Removing, to))).toEqual([S.Error]);
  });
});
