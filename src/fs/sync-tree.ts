/**
 * The synchronous namespace and metadata calls (stat, readdir, mkdir, rename, symlink, chmod...),
 * each following its counterpart in Node's lib/fs.js over the core.
 *
 * Every function takes the core first; createFs() binds it.
 */
import { randomBytes } from 'node:crypto';
import { constants as C } from 'node:fs';
import { posix } from 'node:path';
import { nameBytes } from '../archive/names.js';
import { FsError } from '../core/errors.js';
import { validateBoolean, validateInteger } from './args.js';
import type { Core } from '../core/core.js';
import { Dirent, uvDirentType } from './dirent.js';
import { invalidSymlinkType, validMode } from './errors.js';
import { mkdirp } from './mkdirp.js';
import { encodeName, getOptions, parseFileMode, toUnixTimestamp } from './options.js';
import { isUrl, onPaths, pathArg, pathString, shownFrom, toAbs, type PathArg } from './paths.js';
import { realpathJs } from './realpath.js';
import { rimrafSync, rmdirOptions, RMDIR_DEFAULTS, validateRm, type RmOps } from './rm.js';
import { type BigIntStats, type Stats, toStats } from './stats.js';
import { MAX_USER_ID, timesMs } from './sync-files.js';

interface StatOptions {
  bigint?: boolean;
  throwIfNoEntry?: boolean;
}

/**
 * stat/lstat. Only the sync calls honour `throwIfNoEntry: false`, and (Node 20) it hides ENOENT
 * only: an ENOTDIR (a file used as a directory) is still thrown. core.tryStat hides both, so an
 * undefined answer is checked once more for ENOTDIR.
 */
export function statPath(core: Core, path: unknown, options: unknown, follow: boolean, sync: boolean): Stats | BigIntStats | undefined {
  const p = pathArg(path);
  const o = (options ?? {}) as StatOptions;
  const syscall = follow ? 'stat' : 'lstat';
  const info = onPaths(syscall, p, undefined, () => {
    if (!sync || o.throwIfNoEntry !== false) return core.stat(p.abs, follow);
    if (core.statOrCode) {
      const r = core.statOrCode(p.abs, follow);
      if (typeof r !== 'string') return r;
      if (r === 'ENOENT') return undefined;
      return core.stat(p.abs, follow);
    }
    const found = core.tryStat(p.abs, follow);
    if (found) return found;
    try {
      return core.stat(p.abs, follow);
    } catch (e) {
      if (e instanceof FsError && e.code === 'ENOENT') return undefined;
      throw e;
    }
  });
  return info && toStats(info, o.bigint === true);
}

export const statSync = (core: Core, path: unknown, options?: unknown) => statPath(core, path, options, true, true);
export const lstatSync = (core: Core, path: unknown, options?: unknown) => statPath(core, path, options, false, true);

/** existsSync never throws: a bad argument or any failure is `false`. */
export function existsSync(core: Core, path: unknown): boolean {
  try {
    const p = pathArg(path);
    return p.abs !== '' && core.tryStat(p.abs, true) !== undefined;
  } catch {
    return false;
  }
}

export function accessSync(core: Core, path: unknown, mode?: unknown): void {
  const p = pathArg(path);
  const m = validMode(mode);
  onPaths('access', p, undefined, () => core.access(p.abs, m));
}

interface ReaddirOptions {
  encoding?: string;
  withFileTypes?: boolean;
  recursive?: boolean;
}

function direntsOf(core: Core, p: PathArg, o: ReaddirOptions): Dirent[] {
  return onPaths('scandir', p, undefined, () => core.readdir(p.abs)).map((e) => new Dirent(encodeName(e.name, o.encoding), uvDirentType(e.type), p.shown));
}

/**
 * readdir: names (or Dirents with `withFileTypes`) in the core's order. `recursive` walks
 * breadth-first like Node 20: with Dirents it descends into directories only; with names it
 * descends wherever a stat (following symlinks) finds a directory, as Node's does. Node's
 * promise version takes any truthy `recursive` (`strict` false), the others want a boolean.
 */
export function readdirPath(core: Core, path: unknown, options: unknown, strict: boolean): Array<string | Buffer | Dirent> {
  const o = getOptions(options) as ReaddirOptions;
  const p = pathArg(path);
  if (strict && o.recursive != null) validateBoolean(o.recursive, 'options.recursive');
  if (!o.recursive) {
    const ents = direntsOf(core, p, o);
    return o.withFileTypes ? ents : ents.map((d) => d.name);
  }
  const out: Array<string | Buffer | Dirent> = [];
  const queue = [p.shown];
  for (let i = 0; i < queue.length; i++) {
    const dir = queue[i];
    const ents = direntsOf(core, { abs: toAbs(dir), shown: dir }, o);
    for (const d of ents) {
      const name = String(d.name);
      if (o.withFileTypes) {
        out.push(d);
        if (d.isDirectory()) queue.push(posix.join(dir, name));
        continue;
      }
      const child = posix.join(dir, name);
      out.push(encodeName(posix.relative(p.shown, child), o.encoding));
      let isDir = false;
      try {
        const st = core.tryStat(toAbs(child), true);
        isDir = st !== undefined && (st.mode & C.S_IFMT) === C.S_IFDIR;
      } catch {
        // Node's internalModuleStat answers "not a directory" for any failure (ELOOP included).
      }
      if (isDir) queue.push(child);
    }
  }
  return out;
}

export const readdirSync = (core: Core, path: unknown, options?: unknown) => readdirPath(core, path, options, true);

/**
 * mkdir(path, mode | { recursive, mode }): mode defaults to 0o777 (the core applies its umask).
 * With `recursive`, returns the first directory created (as the caller spelled it) or undefined;
 * `async` picks Node's asynchronous walk (see mkdirp.ts).
 */
export function mkdirPath(core: Core, path: unknown, options: unknown, async: boolean): string | undefined {
  let mode: unknown = 0o777;
  let recursive: unknown = false;
  if (typeof options === 'number' || typeof options === 'string') mode = options;
  else if (options) {
    const o = options as { recursive?: unknown; mode?: unknown };
    if (o.recursive !== undefined) recursive = o.recursive;
    if (o.mode !== undefined) mode = o.mode;
  }
  const p = pathArg(path);
  validateBoolean(recursive, 'options.recursive');
  const m = parseFileMode(mode, 'mode');
  if (!recursive) {
    onPaths('mkdir', p, undefined, () => core.mkdir(p.abs, m));
    return undefined;
  }
  const first = onPaths('mkdir', p, undefined, () => mkdirp(core, p.abs, m, async));
  return first === undefined ? undefined : shownFrom(p, first);
}

export const mkdirSync = (core: Core, path: unknown, options?: unknown) => mkdirPath(core, path, options, false);

const TEMP_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
let templateWarned = false;

/** mkdtempSync(prefix): prefix + six random letters/digits, created 0700; retried on EEXIST. */
export function mkdtempSync(core: Core, prefix: unknown, options?: unknown): string | Buffer {
  const o = getOptions(options);
  const shown = pathString(prefix, 'prefix');
  if (!templateWarned && shown.endsWith('X')) {
    templateWarned = true;
    process.emitWarning('mkdtemp() templates ending with X are not portable. For details see: https://nodejs.org/api/fs.html');
  }
  const template: PathArg = { abs: toAbs(`${shown}XXXXXX`), shown: `${shown}XXXXXX` };
  for (let attempt = 0; ; attempt++) {
    const suffix = [...randomBytes(6)].map((b) => TEMP_CHARS[b % TEMP_CHARS.length]).join('');
    try {
      onPaths('mkdtemp', template, undefined, () => core.mkdir(toAbs(shown + suffix), 0o700));
      return encodeName(shown + suffix, o.encoding);
    } catch (e) {
      const code = e instanceof FsError ? e.code : undefined;
      if (code === 'EEXIST' && attempt < 100) continue;
      throw code ? new FsError(code, 'mkdtemp', template.shown) : e;
    }
  }
}

/** The members of the exported fs object rm's validation and walk call (see rm.ts). */
export interface RmExported {
  lstatSync(path: string, options: { throwIfNoEntry: boolean }): { isDirectory(): boolean } | undefined;
  rmdirSync(path: string | Buffer): void;
}

/**
 * The lstat/unlink/rmdir/readdir calls rm's walk makes, on the caller's path strings; the calls
 * Node makes through the exported object go through `exported` when given.
 */
export function rmOps(core: Core, exported?: RmExported): RmOps {
  const lstat = (path: string, noEntryOk?: boolean) => statPath(core, path, { throwIfNoEntry: !noEntryOk }, false, true);
  const rmdir = (path: string) => plainRmdir(core, pathArg(path));
  return {
    lstat,
    unlink: (path) => unlinkSync(core, path),
    rmdir,
    readdir: (path) => readdirSync(core, path) as string[],
    checkLstat: (path, noEntryOk) => (exported ? exported.lstatSync(path, { throwIfNoEntry: !noEntryOk }) : lstat(path, noEntryOk)),
    rmdirAfterChildren: (path, nested) => (exported ? exported.rmdirSync(nested ? nameBytes(path) : path) : rmdir(path)),
  };
}

function plainRmdir(core: Core, p: PathArg): void {
  onPaths('rmdir', p, undefined, () => core.rmdir(p.abs));
}

let rmdirRecursiveWarned = false;

/** The deprecation Node prints the first time rmdir is asked to be recursive (DEP0147). */
export function warnRecursiveRmdir(): void {
  if (rmdirRecursiveWarned || process.noDeprecation) return;
  rmdirRecursiveWarned = true;
  process.emitWarning('In future versions of Node.js, fs.rmdir(path, { recursive: true }) will be removed. Use fs.rm(path, { recursive: true }) instead', 'DeprecationWarning', 'DEP0147');
}

export function rmdirSync(core: Core, path: unknown, options?: unknown, exported?: RmExported): void {
  const p = pathArg(path);
  if ((options as { recursive?: unknown } | undefined)?.recursive) {
    warnRecursiveRmdir();
    const ops = rmOps(core, exported);
    const o = validateRm(ops, p.shown, { ...(options as object), force: false }, true);
    if (o !== false) {
      rimrafSync(ops, p.shown, o);
      return;
    }
  } else rmdirOptions(options, RMDIR_DEFAULTS);
  plainRmdir(core, p);
}

export function rmSync(core: Core, path: unknown, options?: unknown, exported?: RmExported): void {
  const p = pathArg(path);
  const ops = rmOps(core, exported);
  const o = validateRm(ops, p.shown, options, false);
  if (o) rimrafSync(ops, p.shown, o);
}

export function unlinkSync(core: Core, path: unknown): void {
  const p = pathArg(path);
  onPaths('unlink', p, undefined, () => core.unlink(p.abs));
}

export function renameSync(core: Core, oldPath: unknown, newPath: unknown): void {
  const a = pathArg(oldPath, 'oldPath');
  const b = pathArg(newPath, 'newPath');
  onPaths('rename', a, b, () => core.rename(a.abs, b.abs));
}

export function linkSync(core: Core, existingPath: unknown, newPath: unknown): void {
  const a = pathArg(existingPath, 'existingPath');
  const b = pathArg(newPath, 'newPath');
  onPaths('link', a, b, () => core.link(a.abs, b.abs));
}

/**
 * symlinkSync(target, path, type): the target is stored as written (never resolved); `type` only
 * matters on Windows but must be 'dir', 'file' or 'junction' when given as a string.
 */
export function symlinkSync(core: Core, target: unknown, path: unknown, type?: unknown): void {
  const t = pathString(target, 'target');
  const p = pathArg(path);
  if (typeof type === 'string' && type !== 'dir' && type !== 'file' && type !== 'junction') throw invalidSymlinkType(type);
  onPaths('symlink', { abs: t, shown: t }, p, () => core.symlink(t, p.abs));
}

export function readlinkSync(core: Core, path: unknown, options?: unknown): string | Buffer {
  const o = getOptions(options);
  const p = pathArg(path, 'oldPath');
  return encodeName(
    onPaths('readlink', p, undefined, () => core.readlink(p.abs)),
    o.encoding,
  );
}

export function chmodSync(core: Core, path: unknown, mode: unknown): void {
  const p = pathArg(path);
  const m = parseFileMode(mode, 'mode');
  onPaths('chmod', p, undefined, () => core.chmod(p.abs, m, true));
}

function chownPath(core: Core, path: unknown, uid: unknown, gid: unknown, follow: boolean): void {
  const p = pathArg(path);
  validateInteger(uid, 'uid', -1, MAX_USER_ID);
  validateInteger(gid, 'gid', -1, MAX_USER_ID);
  onPaths(follow ? 'chown' : 'lchown', p, undefined, () => core.chown(p.abs, uid, gid, follow));
}

export const chownSync = (core: Core, path: unknown, uid: unknown, gid: unknown) => chownPath(core, path, uid, gid, true);
export const lchownSync = (core: Core, path: unknown, uid: unknown, gid: unknown) => chownPath(core, path, uid, gid, false);

function utimesPath(core: Core, path: unknown, atime: unknown, mtime: unknown, follow: boolean): void {
  const p = pathArg(path);
  const a = toUnixTimestamp(atime);
  const m = toUnixTimestamp(mtime);
  const syscall = follow ? 'utime' : 'lutime';
  onPaths(syscall, p, undefined, () => {
    const ms = timesMs(a, m);
    if (!ms) throw new FsError('EINVAL', syscall, p.abs);
    core.utimes(p.abs, ...ms, follow);
  });
}

export const utimesSync = (core: Core, path: unknown, atime: unknown, mtime: unknown) => utimesPath(core, path, atime, mtime, true);
export const lutimesSync = (core: Core, path: unknown, atime: unknown, mtime: unknown) => utimesPath(core, path, atime, mtime, false);

/**
 * realpathSync: Node's JavaScript walk (see realpath.ts). A URL is converted; any other non-string
 * is turned into a string, as Node does ("p += ''"), then checked for NUL bytes.
 */
export function realpathSync(core: Core, path: unknown, options?: unknown): string | Buffer {
  const o = getOptions(options);
  const s = typeof path === 'string' || isUrl(path) ? pathString(path) : pathString(String(path));
  return encodeName(realpathJs(core, s), o.encoding);
}

/** realpathSync.native: the core's own resolution (syscall 'realpath'). */
export function realpathNativeSync(core: Core, path: unknown, options?: unknown): string | Buffer {
  const o = getOptions(options);
  const p = pathArg(path);
  return encodeName(
    onPaths('realpath', p, undefined, () => core.realpath(p.abs)),
    o.encoding,
  );
}
