/** The one error type of the application. Each edge translates it: JSON for the API, an ephemeral reply for Discord. */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    /** Stable machine-readable code, e.g. `insufficient_funds`. */
    readonly code: string,
    /** A sentence a user can read. Never contains secrets or internals. */
    message: string,
    /** HTTP status the API edge uses. */
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 503 = 400,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
