/**
 * An error as pve-http-server reports it: the HTTP status, the message (its
 * first line becomes the reason phrase) and, for parameter errors, `errors`.
 */
export class PveError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: Record<string, string> | null = null,
  ) {
    super(message);
  }

  /** `die "…\n"` in a handler: HTTP 500 with the text. */
  static die(message: string): PveError {
    return new PveError(500, message);
  }

  /** raise_param_exc: 400 `Parameter verification failed.` with per-parameter errors. */
  static param(errors: Record<string, string>): PveError {
    return new PveError(400, 'Parameter verification failed.', errors);
  }

  /** raise_perm_exc: 403 `Permission check failed (…)`. */
  static permission(what?: string): PveError {
    return new PveError(
      403,
      what === undefined ? 'Permission check failed' : `Permission check failed (${what})`,
    );
  }
}
