/**
 * A body that could not be read as a JSON object, worded for the client.
 * Raised before routing (Nest's filters do not see it), answered by the
 * body parser's error middleware in the usual envelope.
 */
export class RequestBodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
    this.name = 'RequestBodyError';
  }
}
