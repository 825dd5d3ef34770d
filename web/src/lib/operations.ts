import type { components } from './api/schema';

export type Operation = components['schemas']['OperationDto'];

export function isActive(op: Operation): boolean {
  return op.status === 'queued' || op.status === 'running';
}

/** "stop · running · step stop_container · attempt 1 of 3": the attempt only once one has started. */
export function describeOperation(op: Operation): string {
  const parts = [op.type.replace('_', ' '), op.status];
  if (op.step) parts.push(`step ${op.step}`);
  if (op.attempts > 0) parts.push(`attempt ${op.attempts} of ${op.maxAttempts}`);
  return parts.join(' · ');
}
