import type { components } from './schema';

type FieldError = components['schemas']['FieldErrorDto'];

/** What went wrong, in words a person can read: the API's own message, never raw upstream text. */
export interface Problem {
  status: number;
  message: string;
  details: FieldError[];
  /** Seconds to wait, from `Retry-After` (login lockout, rate limits). */
  retryAfter: number | null;
}

export const UNREACHABLE: Problem = {
  status: 0,
  message: 'Proximity cannot be reached. Check your connection and try again.',
  details: [],
  retryAfter: null,
};

function isEnvelope(body: unknown): body is components['schemas']['ErrorEnvelope'] {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { message?: unknown }).message === 'string'
  );
}

export function problemOf(body: unknown, response: Response): Problem {
  const retry = Number(response.headers.get('retry-after'));
  return {
    status: response.status,
    message: isEnvelope(body) ? body.message : `The request failed (HTTP ${response.status}).`,
    details: isEnvelope(body) ? (body.details ?? []) : [],
    retryAfter: Number.isFinite(retry) && retry > 0 ? retry : null,
  };
}

export type Result<T> = { ok: true; data: T } | { ok: false; problem: Problem };

/**
 * Awaits an openapi-fetch call and folds every outcome (data, error envelope, network failure)
 * into one value, so a screen handles errors in one place: `if (!r.ok) show(r.problem)`.
 */
export async function call<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Result<T>> {
  try {
    const { data, error, response } = await request;
    if (response.ok) return { ok: true, data: data as T };
    return { ok: false, problem: problemOf(error, response) };
  } catch {
    return { ok: false, problem: UNREACHABLE };
  }
}
