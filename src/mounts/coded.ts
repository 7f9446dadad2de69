/**
 * Coded errors inside a core: a walk fails with a bare errno code (cheap, no syscall or path yet),
 * and the call that made it turns the code into the FsError Node would throw, naming the syscall
 * and the caller's own path(s).
 */
import { FsError } from '../core/errors.js';

/** The errno-style code of an error (the host's, memfs's or ours), if it has one. */
export function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** A coded error that runCoded() turns into the FsError of the call being made. */
export function fail(code: string): never {
  throw Object.assign(new Error(code), { code });
}

/** Runs a call; a coded error becomes an FsError naming `syscall` and the caller's paths. */
export function runCoded<T>(syscall: string, path: string | undefined, dest: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const code = codeOf(e);
    throw code ? new FsError(code, syscall, path, dest) : e;
  }
}
