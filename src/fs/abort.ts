/**
 * AbortSignal support (readFile/writeFile's `signal` option), as Node's:
 * - an `options.signal` that is not an AbortSignal (an object with `aborted`) is
 *   ERR_INVALID_ARG_TYPE, checked by getOptions for every call that takes options;
 * - an aborted signal ends the work with an AbortError ("The operation was aborted", code
 *   ABORT_ERR, `cause` the signal's reason) at the points where Node checks it;
 * - `turn()` is where Node would wait for the thread pool: the work goes on in a later turn of the
 *   event loop, so that an abort made right after the call (or in a nextTick) is seen, as in Node.
 */
import { invalidArgType } from './args.js';

/** Node's AbortError (lib/internal/errors.js): an Error with own `code` and `name`. */
export class AbortError extends Error {
  code = 'ABORT_ERR';
  override name = 'AbortError';

  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Node's validateAbortSignal: undefined, or an object with an `aborted` property. */
export function validateAbortSignal(signal: unknown, name: string): void {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
    throw invalidArgType(name, 'an instance of AbortSignal', signal);
  }
}

type SignalLike = { aborted?: boolean; reason?: unknown } | undefined;

/** The AbortError for an aborted signal, else undefined. */
export function abortedBy(signal: unknown): AbortError | undefined {
  const s = signal as SignalLike;
  return s?.aborted ? new AbortError(undefined, { cause: s.reason }) : undefined;
}

/** Throws the AbortError of an aborted signal (the promise API's checkAborted). */
export function checkAborted(signal: unknown): void {
  const e = abortedBy(signal);
  if (e) throw e;
}

/** A later turn of the event loop (after pending nextTicks and promise reactions). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Two errors of one operation (the work's, then closing's), as Node's aggregateTwoErrors: the
 * work's alone, or an AggregateError of both with the work's message.
 */
export function aggregateTwoErrors(inner: unknown, outer: unknown): unknown {
  if (inner && outer && inner !== outer) {
    const errors = (outer as { errors?: unknown[] }).errors;
    if (Array.isArray(errors)) {
      errors.push(inner);
      return outer;
    }
    const e = new AggregateError([outer, inner], (outer as Error).message) as AggregateError & { code?: unknown };
    e.code = (outer as { code?: unknown }).code;
    return e;
  }
  return inner || outer;
}
