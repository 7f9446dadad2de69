/**
 * Every error the API answers is JSON, `{ error: { code, message, path? } }`, with the HTTP status
 * its code means (docs/api.md, "Errors"); never a stack trace. Library errors keep their own code
 * (FsError E..., ArchiveError, StateError); the API adds BAD_REQUEST, FORBIDDEN, NOT_FOUND,
 * METHOD_NOT_ALLOWED, CONFLICT, TOO_LARGE, RANGE_NOT_SATISFIABLE, PAGE_NOT_BUILT and INTERNAL.
 */
import { ArchiveError, FsError, StateError } from '../../core/errors.js';
import { NotFound } from '../../explore/listing.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, path?: string): ApiError => new ApiError(400, 'BAD_REQUEST', message, path);
export const forbidden = (message: string): ApiError => new ApiError(403, 'FORBIDDEN', message);
export const notFound = (message: string, path?: string): ApiError => new ApiError(404, 'NOT_FOUND', message, path);
export const conflict = (message: string): ApiError => new ApiError(409, 'CONFLICT', message);

const FS_STATUS: Record<string, number> = {
  ENOENT: 404,
  ENOTDIR: 400,
  EISDIR: 400,
  EINVAL: 400,
  ELOOP: 400,
  ENAMETOOLONG: 400,
  EROFS: 409,
  EBUSY: 409,
  EEXIST: 409,
  ENOTEMPTY: 409,
  EXDEV: 409,
  EPERM: 409,
  EACCES: 409,
};
const STATE_STATUS: Record<string, number> = {
  NOT_FOUND: 404,
  BAD_NAME: 400,
  BAD_INPUT: 400,
  AMBIGUOUS: 400,
  MALFORMED: 500,
  CORRUPT: 500,
  EXISTS: 409,
  IN_USE: 409,
  LOCK_TIMEOUT: 409,
};

export interface ErrorBody {
  error: { code: string; message: string; path?: string };
}

/** The status and body for anything thrown while answering. `path` is the API path the call was about. */
export function errorAnswer(e: unknown, path?: string): { status: number; body: ErrorBody } {
  const body = (status: number, code: string, message: string, p?: string) => ({ status, body: { error: { code, message, ...(p !== undefined ? { path: p } : {}) } } });
  if (e instanceof ApiError) return body(e.status, e.code, e.message, e.path ?? path);
  if (e instanceof NotFound) return body(404, 'ENOENT', e.message, path);
  if (e instanceof FsError) {
    // The fs names the path as the view saw it; the API's own path is what the caller asked about.
    return body(FS_STATUS[e.code] ?? 400, e.code, e.message, path ?? e.path);
  }
  if (e instanceof ArchiveError) return body(e.code === 'LIMIT' ? 413 : 400, e.code, e.message);
  if (e instanceof StateError) return body(STATE_STATUS[e.code] ?? 500, e.code, e.message);
  if (e instanceof RangeError) return body(400, 'BAD_REQUEST', e.message, path);
  const f = e as { statusCode?: number; code?: string; message?: string; validation?: unknown };
  // Fastify's own refusals (a body that is not JSON, a body too large, a bad content type).
  if (typeof f?.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    const code = f.statusCode === 413 ? 'TOO_LARGE' : f.statusCode === 415 ? 'BAD_REQUEST' : f.statusCode === 404 ? 'NOT_FOUND' : 'BAD_REQUEST';
    return body(f.statusCode === 415 ? 400 : f.statusCode, code, f.message ?? 'bad request');
  }
  return body(500, 'INTERNAL', `internal error: ${(e as Error)?.message ?? String(e)}`);
}
