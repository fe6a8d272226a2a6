/**
 * An error the user can act on: the message says what happened and what to do next.
 * CLIs print it without a stack trace and exit non-zero; the server maps `code` to a 4xx.
 */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly code = 'USER_ERROR',
  ) {
    super(message);
  }
}
