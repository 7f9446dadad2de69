/**
 * rm() and rmdir({ recursive }) as Node 20 does them in lib/internal/fs/rimraf.js, over plain
 * lstat/unlink/rmdir/readdir calls on the caller's path strings (so errors name the caller's paths).
 *
 * A symlink is never followed: it is unlinked, even one to a directory. A path with a trailing
 * slash is looked up through the link (lstat follows it), then rmdir fails with ENOTDIR.
 *
 * Node's synchronous and asynchronous versions differ in a few error cases and both are kept:
 * - validation: rmSync lstats only without `force` or `recursive` (and with force, ENOENT passes);
 *   rm() always lstats, and with `force` passes ENOENT only;
 * - a failed rmdir: the sync walk throws the first error (ENOTDIR included), the async walk reports
 *   the original unlink error for ENOTDIR, which is none when there was no unlink (success).
 *
 * Node makes two kinds of calls through the exported `fs` object, and so does this (a spy on
 * those members sees them): the validation's lstat (fs.lstatSync for rmSync/rmdirSync, fs.lstat for
 * rm(), rmdir(cb) and promises.rm), and the sync walk's last rmdir of a directory once its
 * children are gone (fs.rmdirSync, given a Buffer below the top, as Node's rimraf builds child
 * paths). The walk's other calls are its own.
 */
import type { FsError } from '../core/errors.js';
import { validateBoolean, validateInt32, validateObject, validateUint32 } from './args.js';
import { rmIsDirectory } from './errors.js';

type IsDir = { isDirectory(): boolean };

export interface RmOps {
  /** lstat, or undefined for ENOENT when `noEntryOk`. */
  lstat(path: string, noEntryOk?: boolean): IsDir | undefined;
  unlink(path: string): void;
  rmdir(path: string): void;
  readdir(path: string): string[];
  /** The sync validation's lstat (fs.lstatSync(path, { throwIfNoEntry: !noEntryOk })). */
  checkLstat(path: string, noEntryOk: boolean): IsDir | undefined;
  /** The sync walk's rmdir after the children (fs.rmdirSync; `nested`: a path the walk built). */
  rmdirAfterChildren(path: string, nested: boolean): void;
}

/** The callback lstat the asynchronous validation calls (fs.lstat). */
export type LstatCallback = (path: string, cb: (err: unknown, stats?: IsDir) => void) => void;

export interface RmOptions {
  recursive: boolean;
  force: boolean;
  retryDelay: number;
  maxRetries: number;
}

const NOT_EMPTY = new Set(['ENOTEMPTY', 'EEXIST', 'EPERM']);
const RETRY = new Set(['EBUSY', 'EMFILE', 'ENFILE', 'ENOTEMPTY', 'EPERM']);

function code(e: unknown): string | undefined {
  return (e as FsError | undefined)?.code;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Node's validateRmdirOptions: an object whose fields have the right types, over the defaults. */
export function rmdirOptions(options: unknown, defaults: RmOptions | Omit<RmOptions, 'force'>): RmOptions {
  if (options === undefined) return { force: false, ...defaults };
  validateObject(options, 'options');
  const o = { force: false, ...defaults, ...(options as object) } as RmOptions;
  validateBoolean(o.recursive, 'options.recursive');
  validateInt32(o.retryDelay, 'options.retryDelay', 0);
  validateUint32(o.maxRetries, 'options.maxRetries');
  return o;
}

export const RM_DEFAULTS: RmOptions = { recursive: false, force: false, retryDelay: 100, maxRetries: 0 };
export const RMDIR_DEFAULTS = { recursive: false, retryDelay: 100, maxRetries: 0 };

/**
 * Node's validateRmOptionsSync: returns the options, or false when `expectDir` and the path is not
 * a directory; throws ERR_FS_EISDIR for a directory without `recursive`. It lstats only without
 * `force` or `recursive` (or with `expectDir`), and with `force` a missing path passes.
 */
export function validateRm(ops: RmOps, path: string, options: unknown, expectDir: boolean): RmOptions | false {
  const o = rmdirOptions(options, RM_DEFAULTS);
  validateBoolean(o.force, 'options.force');
  if (o.force && !expectDir && o.recursive) return o;
  const isDir = ops.checkLstat(path, o.force)?.isDirectory();
  if (expectDir && !isDir) return false;
  if (isDir && !o.recursive) throw rmIsDirectory(path);
  return o;
}

/**
 * Node's validateRmOptions (callback): the option checks throw at once; then `lstat` is called and
 * `done` gets the options, false (`expectDir` and not a directory), or the error (with `force` a
 * missing path passes; a directory without `recursive` is ERR_FS_EISDIR).
 */
export function validateRmAsync(lstat: LstatCallback, path: string, options: unknown, expectDir: boolean, done: (err: unknown, o?: RmOptions | false) => void): void {
  const o = rmdirOptions(options, RM_DEFAULTS);
  validateBoolean(o.force, 'options.force');
  lstat(path, (err, stats) => {
    if (err) return done(o.force && code(err) === 'ENOENT' ? null : err, o);
    if (expectDir && !stats!.isDirectory()) return done(null, false);
    if (stats!.isDirectory() && !o.recursive) return done(rmIsDirectory(path));
    done(null, o);
  });
}

/** rimrafSync: the synchronous walk. */
export function rimrafSync(ops: RmOps, path: string, o: RmOptions, nested = false): void {
  let isDir = false;
  try {
    isDir = ops.lstat(path)!.isDirectory();
  } catch (e) {
    if (code(e) === 'ENOENT') return;
  }
  try {
    if (isDir) rmdirSyncWalk(ops, path, o, null, nested);
    else retrying(o, () => ops.unlink(path));
  } catch (e) {
    const c = code(e);
    if (c === 'ENOENT') return;
    if (c === 'EPERM') {
      rmdirSyncWalk(ops, path, o, e, nested);
      return;
    }
    if (c !== 'EISDIR') throw e;
    rmdirSyncWalk(ops, path, o, e, nested);
  }
}

/** Retries `fn` on transient errors up to maxRetries times; ENOENT means already gone. */
function retrying(o: RmOptions, fn: () => void): void {
  const tries = o.maxRetries + 1;
  for (let i = 1; i <= tries; i++) {
    try {
      fn();
      return;
    } catch (e) {
      if (RETRY.has(code(e)!) && i < tries && o.retryDelay > 0) sleep(i * o.retryDelay);
      else if (code(e) === 'ENOENT') return;
      else if (i === tries) throw e;
    }
  }
}

function rmdirSyncWalk(ops: RmOps, path: string, o: RmOptions, originalErr: unknown, nested: boolean): void {
  try {
    ops.rmdir(path);
  } catch (e) {
    const c = code(e);
    if (c === 'ENOENT') return;
    if (c === 'ENOTDIR') throw originalErr ?? e;
    if (NOT_EMPTY.has(c!)) {
      for (const child of ops.readdir(path)) rimrafSync(ops, `${path}/${child}`, o, true);
      retrying(o, () => ops.rmdirAfterChildren(path, nested));
      return;
    }
    throw originalErr ?? e;
  }
}

/** rimraf (callback flavour, run to completion here): the asynchronous walk's decisions. */
export function rimrafAsync(ops: RmOps, path: string, o: RmOptions): void {
  let retries = 0;
  for (;;) {
    try {
      walkAsync(ops, path, o);
      return;
    } catch (e) {
      if (RETRY.has(code(e)!) && retries < o.maxRetries) {
        retries++;
        sleep(retries * o.retryDelay);
        continue;
      }
      if (code(e) === 'ENOENT') return;
      throw e;
    }
  }
}

function walkAsync(ops: RmOps, path: string, o: RmOptions): void {
  let isDir = false;
  try {
    isDir = ops.lstat(path)!.isDirectory();
  } catch (e) {
    if (code(e) === 'ENOENT') return;
  }
  if (isDir) {
    rmdirAsyncWalk(ops, path, o, null);
    return;
  }
  try {
    ops.unlink(path);
  } catch (e) {
    const c = code(e);
    if (c === 'ENOENT') return;
    if (c === 'EISDIR' || c === 'EPERM') {
      rmdirAsyncWalk(ops, path, o, e);
      return;
    }
    throw e;
  }
}

function rmdirAsyncWalk(ops: RmOps, path: string, o: RmOptions, originalErr: unknown): void {
  try {
    ops.rmdir(path);
  } catch (e) {
    const c = code(e);
    if (NOT_EMPTY.has(c!)) {
      for (const child of ops.readdir(path)) rimrafAsync(ops, `${path}/${child}`, o);
      ops.rmdir(path);
      return;
    }
    if (c === 'ENOTDIR') {
      if (originalErr) throw originalErr;
      return;
    }
    throw e;
  }
}
