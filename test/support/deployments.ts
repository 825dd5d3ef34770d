import { waitFor } from './spawn-app';
import type { TestApp } from './test-app';
import { bearer, type Session } from './users';

export interface AppBody {
  id: string;
  status: string;
  vmid: number | null;
  url: string | null;
  ipAddress: string | null;
  lastError: string | null;
  hostname: string;
  node: string;
  ports: { name: string; publicPort: number; containerPort: number; protocol: string }[];
  operation: { id: string; status: string; attempts: number; maxAttempts: number } | null;
}

export interface OperationBody {
  id: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  step: string | null;
  error: string | null;
}

/** Polls the application until it leaves `deploying`; the deadline is a test failure, not a timing. */
export async function settled(
  t: TestApp,
  session: Session,
  id: string,
  deadlineMs = 120_000,
): Promise<AppBody> {
  return waitFor(
    async () => {
      const res = await t.http().get(`/api/apps/${id}`).set(bearer(session));
      const body = res.body as AppBody;
      return res.status === 200 && body.status !== 'deploying' ? body : null;
    },
    deadlineMs,
    250,
  );
}

export async function operationOf(
  t: TestApp,
  session: Session,
  applicationId: string,
): Promise<OperationBody> {
  const res = await t
    .http()
    .get(`/api/operations?applicationId=${applicationId}`)
    .set(bearer(session));
  return (res.body as { items: OperationBody[] }).items[0];
}

/** Polls the application until it shows one of `statuses`; 'gone' waits for its 404. */
export async function reaches(
  t: TestApp,
  session: Session,
  id: string,
  statuses: readonly string[],
  deadlineMs = 120_000,
): Promise<AppBody | null> {
  return waitFor<{ body: AppBody | null }>(
    async () => {
      const res = await t.http().get(`/api/apps/${id}`).set(bearer(session));
      if (res.status === 404) return statuses.includes('gone') ? { body: null } : null;
      const body = res.body as AppBody;
      return res.status === 200 && statuses.includes(body.status) ? { body } : null;
    },
    deadlineMs,
    250,
  ).then((found) => found.body);
}
