/**
 * cp, cpSync and promises.cp as Node 20 does them (lib/internal/fs/cp/cp.js and cp-sync.js, from
 * fs-extra's copy), over this fs's own calls (lstat/stat with bigint, mkdir, copyFile, chmod,
 * utimes, opendir, readlink, symlink, unlink):
 *
 * - options (validateCpOptions): recursive, force (default true), errorOnExist, filter,
 *   dereference, preserveTimestamps, verbatimSymlinks (booleans), mode (copyFile's, 0..7);
 *   dereference with verbatimSymlinks is ERR_INCOMPATIBLE_OPTION_PAIR; options are spread, so
 *   inherited ones do not count;
 * - before copying: `filter(src, dest)` (cpSync refuses a promise from it), the same object twice
 *   (ERR_FS_CP_EINVAL), a directory over a non-directory and the reverse, a directory into itself
 *   (by path, then by the inodes of dest's parents), then dest's parent is created;
 * - a file: copyFile, then chmod to src's mode (after utimes with preserveTimestamps, made
 *   writable first if needed); an existing dest is unlinked first with `force`, an error with
 *   `errorOnExist`, else left alone;
 * - a directory (only with `recursive`, else ERR_FS_EISDIR): mkdir when missing, its entries one
 *   by one through the same steps, then chmod to src's mode;
 * - a symlink: its target made absolute against src's directory (unless verbatimSymlinks),
 *   symlinked; an existing dest link is replaced unless that would put src under itself;
 * - sockets, FIFOs and other types are ERR_FS_CP_SOCKET / _FIFO_PIPE / _UNKNOWN.
 *
 * The two versions differ where Node's do (the errno of ERR_FS_EISDIR; which path is stat'ed to
 * refuse replacing a link to a directory above src). Relative paths resolve from the view's root
 * (Node resolves them from the working directory).
 */
import { posix } from 'node:path';
import { types } from 'node:util';
import { invalidArgType, nodeError, validateBoolean, validateFunction, validateInteger, validateObject } from './args.js';
import { SystemError } from './errors.js';
import { pathString } from './paths.js';

// biome-ignore lint/suspicious/noExplicitAny: any function of the fs object cp calls through
type Fn = (...args: any[]) => any;
type Ops = Record<string, Fn>;
interface St {
  dev: number | bigint;
  ino: number | bigint;
  mode: number | bigint;
  atime: Date;
  mtime: Date;
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
  isSocket(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

export interface CpOptions {
  dereference: boolean;
  errorOnExist: boolean;
  filter?: (src: string, dest: string) => unknown;
  force: boolean;
  preserveTimestamps: boolean;
  recursive: boolean;
  verbatimSymlinks: boolean;
  mode: number;
}

const DEFAULTS = {
  dereference: false,
  errorOnExist: false,
  filter: undefined,
  force: true,
  preserveTimestamps: false,
  recursive: false,
  verbatimSymlinks: false,
};

/** Node's validateCpOptions. */
export function validateCpOptions(options: unknown): CpOptions {
  if (options === undefined) return { ...DEFAULTS, mode: 0 };
  validateObject(options, 'options');
  const o = { ...DEFAULTS, ...(options as object) } as CpOptions & { mode?: unknown };
  for (const name of ['dereference', 'errorOnExist', 'force', 'preserveTimestamps', 'recursive', 'verbatimSymlinks'] as const) {
    validateBoolean(o[name], `options.${name}`);
  }
  // getValidMode(mode, 'copyFile'): 0 by default, else an integer 0..7.
  if (o.mode == null) o.mode = 0;
  else validateInteger(o.mode, 'mode', 0, 7);
  if (o.dereference && o.verbatimSymlinks) {
    throw nodeError(TypeError, 'ERR_INCOMPATIBLE_OPTION_PAIR', 'Option "dereference" cannot be used in combination with option "verbatimSymlinks"');
  }
  if (o.filter !== undefined) validateFunction(o.filter, 'options.filter');
  return o as CpOptions;
}

/**
 * cp's src and dest arguments: paths (a file: URL converted), named 'src' and 'dest'. Node 20
 * validates bytes as a path too, then resolves src and dest as strings: a Buffer is refused there.
 */
export function cpPaths(src: unknown, dest: unknown): [string, string] {
  const paths: [string, string] = [pathString(src, 'src'), pathString(dest, 'dest')];
  for (const v of [src, dest]) if (v instanceof Uint8Array) throw invalidArgType('path', 'of type string', v);
  return paths;
}

const PREFIX: Record<string, string> = {
  ERR_FS_CP_DIR_TO_NON_DIR: 'Cannot overwrite non-directory with directory',
  ERR_FS_CP_EEXIST: 'Target already exists',
  ERR_FS_CP_EINVAL: 'Invalid src or dest',
  ERR_FS_CP_FIFO_PIPE: 'Cannot copy a FIFO pipe',
  ERR_FS_CP_NON_DIR_TO_DIR: 'Cannot overwrite directory with non-directory',
  ERR_FS_CP_SOCKET: 'Cannot copy a socket file',
  ERR_FS_CP_SYMLINK_TO_SUBDIRECTORY: 'Cannot overwrite symlink in subdirectory of self',
  ERR_FS_CP_UNKNOWN: 'Cannot copy an unknown file type',
  ERR_FS_EISDIR: 'Path is a directory',
};

/** One of cp's SystemErrors ("Invalid src or dest: cp returned EINVAL (...) /path"). */
function cpError(key: string, code: string, message: string, path: string, errno = code): SystemError {
  return new SystemError(key, PREFIX[key], { code, message, path, syscall: 'cp', errno });
}

const abs = (...p: string[]) => posix.resolve('/', ...p);

/** Same object: both inode and device numbers equal (and nonzero). */
function areIdentical(a: St, b: St): boolean {
  return Boolean(b.ino) && Boolean(b.dev) && b.ino === a.ino && b.dev === a.dev;
}

/** dest is src or below it, by the paths' names only. */
function isSrcSubdir(src: string, dest: string): boolean {
  const s = abs(src).split('/').filter(Boolean);
  const d = abs(dest).split('/').filter(Boolean);
  return s.every((name, i) => d[i] === name);
}

/** The checks on one pair before copying (the same for both versions once the stats are in). */
function checkStats(src: string, dest: string, srcStat: St, destStat: St | undefined): void {
  if (destStat) {
    if (areIdentical(srcStat, destStat)) throw cpError('ERR_FS_CP_EINVAL', 'EINVAL', 'src and dest cannot be the same', dest);
    if (srcStat.isDirectory() && !destStat.isDirectory()) {
      throw cpError('ERR_FS_CP_DIR_TO_NON_DIR', 'EISDIR', `cannot overwrite non-directory ${dest} with directory ${src}`, dest);
    }
    if (!srcStat.isDirectory() && destStat.isDirectory()) {
      throw cpError('ERR_FS_CP_NON_DIR_TO_DIR', 'ENOTDIR', `cannot overwrite directory ${dest} with non-directory ${src}`, dest);
    }
  }
  if (srcStat.isDirectory() && isSrcSubdir(src, dest)) {
    throw cpError('ERR_FS_CP_EINVAL', 'EINVAL', `cannot copy ${src} to a subdirectory of self ${dest}`, dest);
  }
}

/** What kind of copy src needs: a directory (with recursive), a file, a link, else an error. */
function kindOf(srcStat: St, src: string, dest: string, opts: CpOptions, eisdirErrno: string): 'dir' | 'file' | 'link' {
  if (srcStat.isDirectory()) {
    if (opts.recursive) return 'dir';
    throw cpError('ERR_FS_EISDIR', 'EISDIR', `${src} is a directory (not copied)`, src, eisdirErrno);
  }
  if (srcStat.isFile() || srcStat.isCharacterDevice() || srcStat.isBlockDevice()) return 'file';
  if (srcStat.isSymbolicLink()) return 'link';
  if (srcStat.isSocket()) throw cpError('ERR_FS_CP_SOCKET', 'EINVAL', `cannot copy a socket file: ${dest}`, dest);
  if (srcStat.isFIFO()) throw cpError('ERR_FS_CP_FIFO_PIPE', 'EINVAL', `cannot copy a FIFO pipe: ${dest}`, dest);
  throw cpError('ERR_FS_CP_UNKNOWN', 'EINVAL', `cannot copy an unknown file type: ${dest}`, dest);
}

/** A link's target as cp writes it: made absolute against the link's directory unless verbatim. */
function linkTarget(target: string, link: string, verbatim: boolean): string {
  return verbatim || posix.isAbsolute(target) ? target : abs(posix.dirname(link), target);
}

/** The refusals before replacing an existing link dest; `srcIsDir` says whether src leads to a directory. */
function checkLinkOver(resolvedSrc: string, resolvedDest: string, dest: string, srcIsDir: () => boolean): void {
  if (isSrcSubdir(resolvedSrc, resolvedDest)) {
    throw cpError('ERR_FS_CP_EINVAL', 'EINVAL', `cannot copy ${resolvedSrc} to a subdirectory of self ${resolvedDest}`, dest);
  }
  // Unlinking dest would then remove src's contents and leave a broken link.
  if (srcIsDir() && isSrcSubdir(resolvedDest, resolvedSrc)) {
    throw cpError('ERR_FS_CP_SYMLINK_TO_SUBDIRECTORY', 'EINVAL', `cannot overwrite ${resolvedDest} with ${resolvedSrc}`, dest);
  }
}

const code = (e: unknown) => (e as { code?: string }).code;
const notWritable = (mode: number | bigint) => (Number(mode) & 0o200) === 0;

/** cpSync's walk over the synchronous calls `fs`. */
export function cpSyncFn(fs: Ops, src: string, dest: string, opts: CpOptions): void {
  const checkPaths = (s: string, d: string): { srcStat?: St; destStat?: St; skipped: boolean } => {
    if (opts.filter) {
      const keep = opts.filter(s, d);
      if (types.isPromise(keep)) {
        throw nodeError(TypeError, 'ERR_INVALID_RETURN_VALUE', 'Expected boolean to be returned from the "filter" function but got an instance of Promise.');
      }
      if (!keep) return { skipped: true };
    }
    const stat = opts.dereference ? fs.statSync : fs.lstatSync;
    const srcStat = stat(s, { bigint: true, throwIfNoEntry: true }) as St;
    const destStat = stat(d, { bigint: true, throwIfNoEntry: false }) as St | undefined;
    checkStats(s, d, srcStat, destStat);
    return { srcStat, destStat, skipped: false };
  };
  const checkParents = (srcStat: St, d: string): void => {
    const srcParent = abs(posix.dirname(src));
    const destParent = abs(posix.dirname(d));
    if (destParent === srcParent || destParent === '/') return;
    const st = fs.statSync(destParent, { bigint: true, throwIfNoEntry: false }) as St | undefined;
    if (st === undefined) return;
    if (areIdentical(srcStat, st)) throw cpError('ERR_FS_CP_EINVAL', 'EINVAL', `cannot copy ${src} to a subdirectory of self ${d}`, d);
    checkParents(srcStat, destParent);
  };
  const copyFile = (srcStat: St, s: string, d: string) => {
    fs.copyFileSync(s, d, opts.mode);
    if (opts.preserveTimestamps) {
      if (notWritable(srcStat.mode)) fs.chmodSync(d, Number(srcStat.mode) | 0o200);
      const now = fs.statSync(s) as St;
      fs.utimesSync(d, now.atime, now.mtime);
    }
    fs.chmodSync(d, Number(srcStat.mode));
  };
  const copyDir = (s: string, d: string) => {
    const dir = fs.opendirSync(s);
    try {
      for (let e = dir.readSync(); e !== null; e = dir.readSync()) {
        const si = posix.join(s, e.name);
        const di = posix.join(d, e.name);
        const r = checkPaths(si, di);
        if (!r.skipped) copy(r.destStat, si, di);
      }
    } finally {
      dir.closeSync();
    }
  };
  const copyLink = (destStat: St | undefined, s: string, d: string) => {
    const resolvedSrc = linkTarget(fs.readlinkSync(s), s, opts.verbatimSymlinks);
    if (!destStat) return fs.symlinkSync(resolvedSrc, d);
    let resolvedDest: string;
    try {
      resolvedDest = fs.readlinkSync(d);
    } catch (e) {
      // dest is not a link: symlink then fails as the kernel says.
      if (code(e) === 'EINVAL' || code(e) === 'UNKNOWN') return fs.symlinkSync(resolvedSrc, d);
      throw e;
    }
    resolvedDest = linkTarget(resolvedDest, d, false);
    checkLinkOver(resolvedSrc, resolvedDest, d, () => (fs.statSync(d) as St).isDirectory());
    fs.unlinkSync(d);
    fs.symlinkSync(resolvedSrc, d);
  };
  const copy = (destStat: St | undefined, s: string, d: string): void => {
    const srcStat = (opts.dereference ? fs.statSync : fs.lstatSync)(s) as St;
    const kind = kindOf(srcStat, s, d, opts, 'EINVAL');
    if (kind === 'dir') {
      if (destStat) {
        copyDir(s, d);
        return;
      }
      fs.mkdirSync(d);
      copyDir(s, d);
      fs.chmodSync(d, Number(srcStat.mode));
      return;
    }
    if (kind === 'link') {
      copyLink(destStat, s, d);
      return;
    }
    if (!destStat) {
      copyFile(srcStat, s, d);
      return;
    }
    if (opts.force) {
      fs.unlinkSync(d);
      copyFile(srcStat, s, d);
      return;
    }
    if (opts.errorOnExist) throw cpError('ERR_FS_CP_EEXIST', 'EEXIST', `${d} already exists`, d);
  };

  const first = checkPaths(src, dest);
  if (first.skipped) return;
  checkParents(first.srcStat!, dest);
  const parent = posix.dirname(dest);
  if (!fs.existsSync(parent)) fs.mkdirSync(parent, { recursive: true });
  copy(first.destStat, src, dest);
}

/** cp's walk over the promise calls `fsp`. */
export async function cpFn(fsp: Ops, src: string, dest: string, opts: CpOptions): Promise<void> {
  const statOf = (p: string, bigint = true) => (opts.dereference ? fsp.stat(p, { bigint }) : fsp.lstat(p, { bigint })) as Promise<St>;
  const checkPaths = async (s: string, d: string): Promise<{ srcStat?: St; destStat?: St; skipped: boolean }> => {
    if (opts.filter && !(await opts.filter(s, d))) return { skipped: true };
    const [srcStat, destStat] = await Promise.all([
      statOf(s),
      statOf(d).catch((e) => {
        if (code(e) === 'ENOENT') return undefined;
        throw e;
      }),
    ]);
    checkStats(s, d, srcStat, destStat);
    return { srcStat, destStat, skipped: false };
  };
  const checkParents = async (srcStat: St, d: string): Promise<void> => {
    const srcParent = abs(posix.dirname(src));
    const destParent = abs(posix.dirname(d));
    if (destParent === srcParent || destParent === '/') return;
    let st: St;
    try {
      st = await fsp.stat(destParent, { bigint: true });
    } catch (e) {
      if (code(e) === 'ENOENT') return;
      throw e;
    }
    if (areIdentical(srcStat, st)) throw cpError('ERR_FS_CP_EINVAL', 'EINVAL', `cannot copy ${src} to a subdirectory of self ${d}`, d);
    return checkParents(srcStat, destParent);
  };
  const copyFile = async (srcStat: St, s: string, d: string) => {
    await fsp.copyFile(s, d, opts.mode);
    if (opts.preserveTimestamps) {
      if (notWritable(srcStat.mode)) await fsp.chmod(d, Number(srcStat.mode) | 0o200);
      const now = (await fsp.stat(s)) as St;
      await fsp.utimes(d, now.atime, now.mtime);
    }
    return fsp.chmod(d, Number(srcStat.mode));
  };
  const copyDir = async (s: string, d: string) => {
    const dir = await fsp.opendir(s);
    for await (const { name } of dir as AsyncIterable<{ name: string }>) {
      const si = posix.join(s, name);
      const di = posix.join(d, name);
      const r = await checkPaths(si, di);
      if (!r.skipped) await copy(r.destStat, si, di);
    }
  };
  const copyLink = async (destStat: St | undefined, s: string, d: string) => {
    const resolvedSrc = linkTarget(await fsp.readlink(s), s, opts.verbatimSymlinks);
    if (!destStat) return fsp.symlink(resolvedSrc, d);
    let resolvedDest: string;
    try {
      resolvedDest = await fsp.readlink(d);
    } catch (e) {
      if (code(e) === 'EINVAL' || code(e) === 'UNKNOWN') return fsp.symlink(resolvedSrc, d);
      throw e;
    }
    resolvedDest = linkTarget(resolvedDest, d, false);
    const srcIsDir = ((await fsp.stat(s)) as St).isDirectory();
    checkLinkOver(resolvedSrc, resolvedDest, d, () => srcIsDir);
    await fsp.unlink(d);
    return fsp.symlink(resolvedSrc, d);
  };
  const copy = async (destStat: St | undefined, s: string, d: string): Promise<void> => {
    const srcStat = await statOf(s, false);
    const kind = kindOf(srcStat, s, d, opts, 'EISDIR');
    if (kind === 'dir') {
      if (destStat) return copyDir(s, d);
      await fsp.mkdir(d);
      await copyDir(s, d);
      return fsp.chmod(d, Number(srcStat.mode));
    }
    if (kind === 'link') return copyLink(destStat, s, d);
    if (!destStat) return copyFile(srcStat, s, d);
    if (opts.force) {
      await fsp.unlink(d);
      return copyFile(srcStat, s, d);
    }
    if (opts.errorOnExist) throw cpError('ERR_FS_CP_EEXIST', 'EEXIST', `${d} already exists`, d);
  };

  const first = await checkPaths(src, dest);
  if (first.skipped) return;
  await checkParents(first.srcStat!, dest);
  const parent = posix.dirname(dest);
  const exists = await fsp.stat(parent).then(
    () => true,
    (e: unknown) => {
      if (code(e) === 'ENOENT') return false;
      throw e;
    },
  );
  if (!exists) await fsp.mkdir(parent, { recursive: true });
  return copy(first.destStat, src, dest);
}
