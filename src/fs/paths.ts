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
import { FsError } from '../errors.js';
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

/** An FsError naming the core's absolute paths re-issued with the caller's spelling. */
function relabel(e: unknown, a: PathArg, b?: PathArg): unknown {
  if (!(e instanceof FsError)) return e;
  const spell = (x: string | undefined) => x === undefined ? x : x === a.abs ? a.shown : b && x === b.abs ? b.shown : x;
  const path = spell(e.path);
  const dest = spell(e.dest);
  if (path === e.path && dest === e.dest) return e;
  return new FsError(e.code, e.syscall, path, dest);
}

/**
 * Runs one core call on path arguments. The empty path names nothing (ENOENT, as the kernel says);
 * failures name the paths as the caller wrote them.
 */
export function onPaths<T>(syscall: string, a: PathArg, b: PathArg | undefined, fn: () => T): T {
  if (a.abs === '' || b?.abs === '') throw new FsError('ENOENT', syscall, a.shown, b?.shown);
  try {
    return fn();
  } catch (e) {
    throw relabel(e, a, b);
  }
}
