import { attemptsBeforeLoss, failedAttemptsOf, operationJob } from './operation-jobs';

/** The attempt numbers the worker sees over every run Bull gives a job (StepRunner adds 1). */
function attemptsRun(op: { attempts: number; maxAttempts: number }, prior?: number): number[] {
  const { data, options } = operationJob({ id: 'op', maxAttempts: op.maxAttempts }, prior);
  return Array.from(
    { length: options.attempts ?? 1 },
    (_, attemptsMade) => failedAttemptsOf({ attemptsMade, data }) + 1,
  );
}

describe('operation jobs', () => {
  it('a first job runs every attempt of the operation', () => {
    expect(attemptsRun({ attempts: 0, maxAttempts: 3 })).toEqual([1, 2, 3]);
    expect(operationJob({ id: 'op', maxAttempts: 3 }).data).toEqual({ operationId: 'op' });
  });

  it('a lost job of a queued operation is put back with all its attempts', () => {
    const op = { attempts: 0, maxAttempts: 3 };
    expect(attemptsBeforeLoss(op)).toBe(0);
    expect(attemptsRun(op, attemptsBeforeLoss(op))).toEqual([1, 2, 3]);
  });

  it('a lost job of an operation running attempt n resumes attempt n, never past the maximum', () => {
    const op = { attempts: 2, maxAttempts: 3 };
    expect(attemptsBeforeLoss(op)).toBe(1);
    expect(attemptsRun(op, attemptsBeforeLoss(op))).toEqual([2, 3]);
    const last = { attempts: 3, maxAttempts: 3 };
    expect(attemptsRun(last, attemptsBeforeLoss(last))).toEqual([3]);
  });

  it('keeps the prior attempts in the job data and has Bull run only those left', () => {
    const { data, options } = operationJob({ id: 'op', maxAttempts: 5 }, 2);
    expect(data).toEqual({ operationId: 'op', priorAttempts: 2 });
    expect(options).toMatchObject({ jobId: 'op', attempts: 3 });
  });
});
