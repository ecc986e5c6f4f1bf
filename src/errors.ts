/**
 * The fixed set of failures a user can be told about. Anything else is a bug: it is logged with
 * a correlation id and the user sees a short apology carrying that id.
 */
export const ERROR_CODES = [
  'usage',
  'forbidden',
  'not_found',
  'tlp_violation',
  'conflict',
  'unavailable',
  'throttled',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class ConcordError extends Error {
  override readonly name = 'ConcordError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The usage line of the command that failed, when there is one to show. */
    readonly usage?: string,
  ) {
    super(message);
  }

  withUsage(usage: string): ConcordError {
    return this.usage ? this : new ConcordError(this.code, this.message, usage);
  }
}

export const usageError = (message: string, usage?: string) =>
  new ConcordError('usage', message, usage);
export const forbidden = (message: string) => new ConcordError('forbidden', message);
export const notFound = (message: string) => new ConcordError('not_found', message);
export const conflict = (message: string) => new ConcordError('conflict', message);
export const unavailable = (message: string) => new ConcordError('unavailable', message);
export const throttled = (message: string) => new ConcordError('throttled', message);
export const tlpViolation = (message: string) => new ConcordError('tlp_violation', message);

export function isConcordError(error: unknown): error is ConcordError {
  return error instanceof ConcordError;
}
