/**
 * Path arguments: what a caller passes (string | Buffer | Uint8Array | file: URL) and what the core
 * gets (an absolute path inside the view, otherwise untouched).
 *
 * - The view's working directory is its root: a relative path 'a/b' reaches the core as '/a/b'.
 * - Nothing is normalised: '.', '..', doubled and trailing slashes reach the core as written, since
 *   the kernel gives them meaning (`rmdir('link/')` is not `rmdir('link')`).
 * - Errors name the path as the caller wrote it, like Node: a relative path stays relative.
 */
import { decodeName } from '../archive/names.js';
import { fileURLToPath } from 'node:url';
import { FsError } from '../core/errors.js';
import { invalidArgType, invalidArgValue, markArgError } from './args.js';

export interface PathArg {
  /** What the core is given: absolute, or '' for the empty path (which names nothing). */
  abs: string;
  /** The path as the caller wrote it (a Buffer decoded as names are, a URL converted). */
  shown: string;
}

/** Node's isURL(): a URL instance or a URL-looking object with href and protocol. */
export function isUrl(v: unknown): v is URL {
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return false;
  const u = v as { href?: unknown; protocol?: unknown; auth?: unknown; path?: unknown };
  return v instanceof URL || (Boolean(u.href) && Boolean(u.protocol) && u.auth === undefined && u.path === undefined);
}

/** The path string of a path-like argument, validated like Node's getValidatedPath(). */
export function pathString(value: unknown, name = 'path'): string {
  if (isUrl(value)) {
    try {
      value = fileURLToPath(value);
    } catch (e) {
      throw markArgError(e);
    }
  }
  let s: string;
  if (typeof value === 'string') s = value;
  // Bytes are a name as the kernel has it: decoded losslessly (a non-UTF-8 byte becomes the same
  // U+DC80+byte the archive reader gives such a name), so any name read as a Buffer opens again.
  else if (value instanceof Uint8Array) s = decodeName(value);
  else throw invalidArgType(name, 'of type string or an instance of Buffer or URL', value);
  // A NUL byte would cut the path short in the kernel: Node refuses it.
  if (s.includes('\u0000')) {
    throw invalidArgValue(name, value, 'must be a string, Uint8Array, or URL without null bytes');
  }
  return s;
}

/** A relative path resolves against the view's root. */
export function toAbs(shown: string): string {
  return shown === '' || shown.startsWith('/') ? shown : `/${shown}`;
}

export function pathArg(value: unknown, name = 'path'): PathArg {
  const shown = pathString(value, name);
  return { abs: toAbs(shown), shown };
}

/** The caller's form of a path the adapter derived from `p` (strips the '/' added to a relative one). */
export function shownFrom(p: PathArg, abs: string): string {
  return p.abs !== p.shown && abs.startsWith('/') ? abs.slice(1) : abs;
}

/** An FsError naming the core's absolute path re-issued with the caller's spelling. */
function relabel(e: unknown, a: PathArg): unknown {
  if (!(e instanceof FsError) || e.path !== a.abs || a.abs === a.shown) return e;
  return new FsError(e.code, e.syscall, a.shown, e.dest);
}

/**
 * Runs one core call on path arguments. The empty path names nothing (ENOENT, as the kernel says);
 * failures name the paths as the caller wrote them. A two-path call (rename, link, symlink,
 * copyfile) fails as Node's do whatever went wrong and where: the call's syscall, `path` the first
 * argument, `dest` the second, and "... link 'a' -> 'b'" (a core may name only the path it was
 * resolving when it failed).
 */
export function onPaths<T>(syscall: string, a: PathArg, b: PathArg | undefined, fn: () => T): T {
  if (a.abs === '' || b?.abs === '') throw new FsError('ENOENT', syscall, a.shown, b?.shown);
  try {
    return fn();
  } catch (e) {
    if (b && e instanceof FsError) throw new FsError(e.code, syscall, a.shown, b.shown);
    throw relabel(e, a);
  }
}
