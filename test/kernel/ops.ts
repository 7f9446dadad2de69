/**
 * An operation language for the differential tests, and one runner that executes it against any
 * Node-fs-shaped object: node:fs on the overlay mount point (root = the mount path) or an emulator
 * view's `fs` (root = '/'). Ops are plain JSON so a failing case can be printed and replayed.
 *
 * Each op yields one normalised result: `{ ok: value }`, `{ err: CODE }` or `{ skip: reason }`.
 *
 * WHAT IS COMPARED
 *  - error codes (err.code only; messages name host paths and differ by design);
 *  - stat/lstat/fstat: file type, permission bits (incl. setuid/setgid/sticky), uid, gid, nlink,
 *    size (not for directories), mtime (see below);
 *  - readdir: the sorted list of `name:type` (Dirent type, i.e. d_type);
 *  - file data (readFile, read): the text when short and printable, else length + sha256 prefix;
 *  - readlink target; realpath and mkdir -p's return value relative to the root;
 *  - write/read byte counts, exists/access outcomes, sameFile (do two names share st_dev+st_ino).
 *
 * WHAT IS EXCLUDED, AND WHY
 *  - st_ino / st_dev values: the kernel reports the real inode of whichever layer holds the object;
 *    the emulator picks its own numbering (OVL-17). Only *equality* is compared (op `sameFile`).
 *  - atime (OVL-20a: not updated on lower reads; relatime anyway) and ctime/birthtime: wall clock.
 *  - mtime is compared in a two-valued way: a fixture time (anything before 2010, set by the spec or a
 *    `utimes` op) is compared exactly in seconds, any later time is shown as 'now'. This checks "copy-
 *    up keeps mtime", "utimes sets it" and "a write/create/unlink touches it" without clocks.
 *  - directory st_size (tmpfs reports 20 bytes per entry, the emulator has its own idea), st_blocks,
 *    st_blksize, st_rdev.
 *  - readdir order (OVL-5: hash/insertion order, unstable across reopen); names are sorted.
 *  - error messages and syscall names.
 *
 * SAFETY GUARDS (kernel side decides, the emulator mirrors the skip so results stay aligned)
 *  - `escape`: an op whose path walk would climb above the mount root ('..' at the root, or an
 *    absolute symlink target) would touch the HOST on the kernel but stay inside the view in the
 *    emulator; it is skipped on both.
 *  - `fifo`: opening a FIFO blocks forever; readFile/writeFile/appendFile/open/copyFile of one is
 *    skipped on both.
 *  - `same-file`: copyFile where source and destination are the same object hangs the real kernel
 *    (semantics.md §8: copy-up changes the inode under libuv's same-file check); skipped on both.
 */
import { createHash } from 'node:crypto';
import * as nodefs from 'node:fs';

export type FlagName = 'O_RDONLY' | 'O_WRONLY' | 'O_RDWR' | 'O_CREAT' | 'O_EXCL' | 'O_TRUNC' | 'O_APPEND' | 'O_DIRECTORY' | 'O_NOFOLLOW' | 'O_PATH';

export type Op =
  | { op: 'stat'; path: string }
  | { op: 'lstat'; path: string }
  | { op: 'readdir'; path: string }
  | { op: 'readFile'; path: string }
  | { op: 'writeFile'; path: string; data: string; flag?: string; mode?: number }
  | { op: 'appendFile'; path: string; data: string }
  /** Opens `path` into descriptor slot `fd` (a small integer naming the descriptor in later ops). */
  | { op: 'open'; fd: number; path: string; flags: FlagName[]; mode?: number }
  | { op: 'write'; fd: number; data: string; position?: number | null }
  | { op: 'read'; fd: number; length: number; position?: number | null }
  | { op: 'ftruncate'; fd: number; length: number }
  | { op: 'fstat'; fd: number }
  /** Metadata and sync calls on a held descriptor (OVL-23: they act on its object, whatever its name is now). */
  | { op: 'fchmod'; fd: number; mode: number }
  | { op: 'fchown'; fd: number; uid: number; gid: number }
  | { op: 'futimes'; fd: number; atime: number; mtime: number }
  | { op: 'fsync'; fd: number }
  | { op: 'close'; fd: number }
  | { op: 'truncate'; path: string; length: number }
  | { op: 'unlink'; path: string }
  | { op: 'rmdir'; path: string }
  | { op: 'rm'; path: string; recursive?: boolean; force?: boolean }
  | { op: 'mkdir'; path: string; recursive?: boolean; mode?: number }
  | { op: 'rename'; from: string; to: string }
  | { op: 'symlink'; target: string; path: string }
  | { op: 'readlink'; path: string }
  | { op: 'link'; from: string; to: string }
  | { op: 'chmod'; path: string; mode: number }
  | { op: 'chown'; path: string; uid: number; gid: number; nofollow?: boolean }
  | { op: 'utimes'; path: string; atime: number; mtime: number; nofollow?: boolean }
  | { op: 'realpath'; path: string }
  | { op: 'copyFile'; from: string; to: string; excl?: boolean }
  | { op: 'access'; path: string; mode: number }
  | { op: 'exists'; path: string }
  | { op: 'sameFile'; a: string; b: string };

export type Result = { ok: unknown } | { err: string } | { skip: string };

export interface StatsLike {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  ino: number;
  dev: number;
  mtimeMs: number;
}
export interface DirentLike {
  name: string;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}

/** The subset of node:fs the runner and the snapshot walker use. */
export interface FsLike {
  statSync(p: string): StatsLike;
  lstatSync(p: string): StatsLike;
  fstatSync(fd: number): StatsLike;
  readdirSync(p: string, o: { withFileTypes: true }): DirentLike[];
  readdirSync(p: string): string[];
  readFileSync(p: string): Uint8Array;
  writeFileSync(p: string, data: string, o?: { flag?: string; mode?: number }): void;
  appendFileSync(p: string, data: string): void;
  openSync(p: string, flags: number, mode?: number): number;
  closeSync(fd: number): void;
  readSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number | null): number;
  writeSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number | null): number;
  ftruncateSync(fd: number, len: number): void;
  fchmodSync(fd: number, mode: number): void;
  fchownSync(fd: number, uid: number, gid: number): void;
  futimesSync(fd: number, a: number, m: number): void;
  fsyncSync(fd: number): void;
  truncateSync(p: string, len: number): void;
  unlinkSync(p: string): void;
  rmdirSync(p: string): void;
  rmSync(p: string, o?: { recursive?: boolean; force?: boolean }): void;
  mkdirSync(p: string, o?: { recursive?: boolean; mode?: number }): string | undefined;
  renameSync(a: string, b: string): void;
  symlinkSync(target: string, p: string): void;
  readlinkSync(p: string): string;
  linkSync(a: string, b: string): void;
  chmodSync(p: string, mode: number): void;
  chownSync(p: string, uid: number, gid: number): void;
  lchownSync(p: string, uid: number, gid: number): void;
  utimesSync(p: string, a: number, m: number): void;
  lutimesSync(p: string, a: number, m: number): void;
  realpathSync(p: string): string;
  copyFileSync(a: string, b: string, mode?: number): void;
  accessSync(p: string, mode?: number): void;
  existsSync(p: string): boolean;
}

export const kernelFs = nodefs as unknown as FsLike;

/** mtimes before this (2010-01-01) are fixture times and compared exactly; later ones are 'now'. */
export const FIXTURE_TIME_LIMIT_MS = 1_262_304_000_000;

export function normTime(ms: number): number | 'now' {
  return ms < FIXTURE_TIME_LIMIT_MS ? Math.round(ms) / 1000 : 'now';
}

export function fileType(mode: number): string {
  switch (mode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'symlink';
    case 0o010000:
      return 'fifo';
    case 0o020000:
      return 'char';
    case 0o060000:
      return 'block';
    case 0o140000:
      return 'socket';
    default:
      return `?${(mode & 0o170000).toString(8)}`;
  }
}

export interface NStat {
  type: string;
  mode: string;
  uid: number;
  gid: number;
  nlink: number;
  size?: number;
  mtime: number | 'now';
}

export function normStat(s: StatsLike): NStat {
  const type = fileType(s.mode);
  const out: NStat = { type, mode: (s.mode & 0o7777).toString(8).padStart(4, '0'), uid: s.uid, gid: s.gid, nlink: s.nlink, mtime: normTime(s.mtimeMs) };
  if (type !== 'dir') out.size = s.size;
  return out;
}

export function direntType(d: DirentLike): string {
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'dir';
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFIFO()) return 'fifo';
  if (d.isCharacterDevice()) return 'char';
  if (d.isBlockDevice()) return 'block';
  if (d.isSocket()) return 'socket';
  return 'unknown';
}

/** Short printable data as itself, anything else as `#<length>:<sha256 prefix>`. */
export function normData(b: Uint8Array): string {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length <= 64) {
    const s = buf.toString('utf8');
    if (/^[\x20-\x7e]*$/.test(s)) return s;
  }
  return `#${buf.length}:${createHash('sha256').update(buf).digest('hex').slice(0, 16)}`;
}

/** Linux's O_PATH: Node does not export it, and passes numeric flags to open(2) unchanged. */
export const O_PATH = 0o10000000;

export function flagsOf(names: FlagName[]): number {
  const c: Record<string, number> = { ...(nodefs.constants as unknown as Record<string, number>), O_PATH };
  let f = 0;
  for (const n of names) f |= c[n];
  return f;
}

/** JSON with long strings (big file contents) abbreviated, for human-readable reports. */
export function shortJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' && x.length > 48 ? `${x.slice(0, 24)}…(${x.length} chars, ${normData(Buffer.from(x))})` : x));
}

export function describeOp(op: Op): string {
  const { op: name, ...rest } = op;
  const args = Object.entries(rest).map(([k, v]) => (k === 'mode' && typeof v === 'number' ? `mode=0${v.toString(8)}` : `${k}=${shortJson(v)}`));
  return `${name} ${args.join(' ')}`;
}

function toRel(root: string, p: string): string {
  if (root === '/') return p;
  if (p === root) return '/';
  if (p.startsWith(`${root}/`)) return p.slice(root.length);
  return `OUTSIDE:${p}`;
}

function errResult(e: unknown): Result {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    return { err: (e as { code: string }).code };
  }
  if (e instanceof TypeError && /is not a function/.test(e.message)) return { err: `NOIMPL(${e.message})` };
  return { err: `THROW(${e instanceof Error ? `${e.name}: ${e.message}` : String(e)})` };
}

/** Which path arguments an op walks, and whether the last component is followed. */
export function pathArgs(op: Op): Array<{ path: string; follow: boolean }> {
  switch (op.op) {
    case 'stat':
    case 'readdir':
    case 'readFile':
    case 'writeFile':
    case 'appendFile':
    case 'truncate':
    case 'chmod':
    case 'realpath':
    case 'access':
    case 'exists':
    case 'open':
      return [{ path: op.path, follow: true }];
    case 'chown':
    case 'utimes':
      return [{ path: op.path, follow: !op.nofollow }];
    case 'mkdir':
      // mkdir -p stats an existing last component (follows it) to decide EEXIST vs ENOTDIR.
      return [{ path: op.path, follow: !!op.recursive }];
    case 'lstat':
    case 'unlink':
    case 'rmdir':
    case 'rm':
    case 'readlink':
    case 'symlink':
      return [{ path: op.path, follow: false }];
    case 'rename':
    case 'link':
      return [
        { path: op.from, follow: false },
        { path: op.to, follow: false },
      ];
    case 'copyFile':
      return [
        { path: op.from, follow: true },
        { path: op.to, follow: true },
      ];
    case 'sameFile':
      return [
        { path: op.a, follow: true },
        { path: op.b, follow: true },
      ];
    default:
      return [];
  }
}

/** The ops that open their path argument(s) and so would block on a FIFO. */
function opensPath(op: Op): string[] {
  switch (op.op) {
    case 'readFile':
    case 'writeFile':
    case 'appendFile':
      return [op.path];
    // An O_PATH open opens nothing, so it cannot block on a FIFO.
    case 'open':
      return op.flags.includes('O_PATH') ? [] : [op.path];
    case 'copyFile':
      return [op.from, op.to];
    default:
      return [];
  }
}

/**
 * Would walking `p` inside the real mount `root` leave the root? Walks like the kernel (component by
 * component, symlinks spliced in, up to 40), using lstat/readlink on the mount only (no copy-up).
 * A trailing slash makes the last component followed.
 */
export function walkEscapes(root: string, p: string, follow: boolean): boolean {
  const todo = p.split('/').filter((s) => s !== '');
  if (p.endsWith('/') && todo.length) follow = true;
  const stack: string[] = [];
  let links = 0;
  while (todo.length) {
    const comp = todo.shift()!;
    if (comp === '.') continue;
    if (comp === '..') {
      if (stack.length === 0) return true;
      stack.pop();
      continue;
    }
    const last = todo.length === 0;
    if (last && !follow) return false;
    const here = `${root}/${[...stack, comp].join('/')}`;
    let st: nodefs.Stats;
    try {
      st = nodefs.lstatSync(here);
    } catch {
      return false; // ENOENT/ENOTDIR/...: the walk fails here, it cannot climb further
    }
    if (st.isSymbolicLink()) {
      if (++links > 40) return false;
      const t = nodefs.readlinkSync(here);
      if (t.startsWith('/')) return true;
      todo.unshift(...t.split('/').filter((s) => s !== ''));
      continue;
    }
    if (!last && !st.isDirectory()) return false; // ENOTDIR
    stack.push(comp);
  }
  return false;
}

/** The guard the kernel runner uses; see SAFETY GUARDS above. */
export function kernelGuard(root: string): (op: Op) => string | undefined {
  return (op) => {
    for (const a of pathArgs(op)) if (walkEscapes(root, a.path, a.follow)) return 'escape';
    for (const p of opensPath(op)) {
      try {
        if (nodefs.statSync(root + p).isFIFO()) return 'fifo';
      } catch {
        /* missing: fine */
      }
    }
    if (op.op === 'copyFile') {
      try {
        const a = nodefs.statSync(root + op.from);
        const b = nodefs.statSync(root + op.to);
        if ((a.dev === b.dev && a.ino === b.ino) || nodefs.realpathSync(root + op.from) === nodefs.realpathSync(root + op.to)) {
          return 'same-file';
        }
      } catch {
        /* one side missing: not the same file */
      }
    }
    return undefined;
  };
}

export interface RunOptions {
  /** Decides, before an op runs, that it must be skipped (kernel side). */
  guard?: (op: Op) => string | undefined;
  /** Results of another run: ops skipped there are skipped here too (emulator side). */
  mirror?: Result[];
}

/**
 * View path → path to hand to the fs. On the kernel side the view's root is a mount point, and
 * `${mnt}/` names it as an ordinary last component ('m' inside the scratch dir, on another
 * filesystem): rename/link then fail with EXDEV and open(O_CREAT|O_EXCL) with EISDIR (trailing-slash
 * rule), which a process whose root is the view never sees. `${mnt}/.` ends in a dot component, which
 * the kernel treats like the real root (rename: EBUSY, link: EEXIST, O_CREAT|O_EXCL: EEXIST, unlink:
 * EISDIR, mkdir/symlink: EEXIST). rmdir and rm keep `${mnt}/` (the root answers EBUSY; "." would be
 * EINVAL) — see runOne.
 */
function p2(root: string, p: string): string {
  if (root === '/') return p;
  return /^\/+$/.test(p) ? `${root}/.` : root + p;
}

/** Runs `ops` against `fsx` (paths inside `root`), closing every descriptor it opened at the end. */
export function runOps(fsx: FsLike, root: string, ops: Op[], opts: RunOptions = {}): Result[] {
  const fds = new Map<number, number>();
  const results: Result[] = [];
  const P = (p: string): string => p2(root, p);
  try {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      const mirrored = opts.mirror?.[i];
      if (mirrored && 'skip' in mirrored) {
        results.push(mirrored);
        continue;
      }
      const reason = opts.guard?.(op);
      if (reason) {
        results.push({ skip: reason });
        continue;
      }
      try {
        results.push({ ok: runOne(fsx, root, P, fds, op) });
      } catch (e) {
        results.push(errResult(e));
      }
    }
  } finally {
    for (const fd of fds.values()) {
      try {
        fsx.closeSync(fd);
      } catch {
        /* already gone */
      }
    }
  }
  return results;
}

function runOne(fsx: FsLike, root: string, P: (p: string) => string, fds: Map<number, number>, op: Op): unknown {
  const PR = (p: string): string => (root === '/' ? p : root + p);
  const slot = (n: number): number => {
    const fd = fds.get(n);
    if (fd === undefined) throw Object.assign(new Error('slot not open'), { code: 'SLOT_NOT_OPEN' });
    return fd;
  };
  switch (op.op) {
    case 'stat':
      return normStat(fsx.statSync(P(op.path)));
    case 'lstat':
      return normStat(fsx.lstatSync(P(op.path)));
    case 'readdir':
      return fsx
        .readdirSync(P(op.path), { withFileTypes: true })
        .map((d) => `${d.name}:${direntType(d)}`)
        .sort();
    case 'readFile':
      return normData(fsx.readFileSync(P(op.path)));
    case 'writeFile': {
      const o: { flag?: string; mode?: number } = {};
      if (op.flag !== undefined) o.flag = op.flag;
      if (op.mode !== undefined) o.mode = op.mode;
      fsx.writeFileSync(P(op.path), op.data, o);
      return true;
    }
    case 'appendFile':
      fsx.appendFileSync(P(op.path), op.data);
      return true;
    case 'open': {
      if (fds.has(op.fd)) throw Object.assign(new Error('slot in use'), { code: 'SLOT_IN_USE' });
      fds.set(op.fd, fsx.openSync(P(op.path), flagsOf(op.flags), op.mode ?? 0o666));
      return true;
    }
    case 'write': {
      const b = Buffer.from(op.data);
      return fsx.writeSync(slot(op.fd), b, 0, b.length, op.position ?? null);
    }
    case 'read': {
      const b = Buffer.alloc(op.length);
      const n = fsx.readSync(slot(op.fd), b, 0, op.length, op.position ?? null);
      return normData(b.subarray(0, n));
    }
    case 'ftruncate':
      fsx.ftruncateSync(slot(op.fd), op.length);
      return true;
    case 'fstat':
      return normStat(fsx.fstatSync(slot(op.fd)));
    case 'fchmod':
      fsx.fchmodSync(slot(op.fd), op.mode);
      return true;
    case 'fchown':
      fsx.fchownSync(slot(op.fd), op.uid, op.gid);
      return true;
    case 'futimes':
      fsx.futimesSync(slot(op.fd), op.atime, op.mtime);
      return true;
    case 'fsync':
      fsx.fsyncSync(slot(op.fd));
      return true;
    case 'close': {
      const fd = slot(op.fd);
      fds.delete(op.fd);
      fsx.closeSync(fd);
      return true;
    }
    case 'truncate':
      fsx.truncateSync(P(op.path), op.length);
      return true;
    case 'unlink':
      fsx.unlinkSync(P(op.path));
      return true;
    case 'rmdir':
      fsx.rmdirSync(PR(op.path));
      return true;
    case 'rm':
      fsx.rmSync(PR(op.path), { recursive: op.recursive ?? false, force: op.force ?? false });
      return true;
    case 'mkdir': {
      const r = fsx.mkdirSync(P(op.path), { recursive: op.recursive ?? false, mode: op.mode ?? 0o777 });
      return typeof r === 'string' ? toRel(root, r) : (r ?? null);
    }
    case 'rename':
      fsx.renameSync(P(op.from), P(op.to));
      return true;
    case 'symlink':
      fsx.symlinkSync(op.target, P(op.path));
      return true;
    case 'readlink':
      return fsx.readlinkSync(P(op.path));
    case 'link':
      fsx.linkSync(P(op.from), P(op.to));
      return true;
    case 'chmod':
      fsx.chmodSync(P(op.path), op.mode);
      return true;
    case 'chown':
      if (op.nofollow) fsx.lchownSync(P(op.path), op.uid, op.gid);
      else fsx.chownSync(P(op.path), op.uid, op.gid);
      return true;
    case 'utimes':
      if (op.nofollow) fsx.lutimesSync(P(op.path), op.atime, op.mtime);
      else fsx.utimesSync(P(op.path), op.atime, op.mtime);
      return true;
    case 'realpath':
      return toRel(root, fsx.realpathSync(P(op.path)));
    case 'copyFile':
      fsx.copyFileSync(P(op.from), P(op.to), op.excl ? nodefs.constants.COPYFILE_EXCL : 0);
      return true;
    case 'access':
      fsx.accessSync(P(op.path), op.mode);
      return true;
    case 'exists':
      return fsx.existsSync(P(op.path));
    case 'sameFile': {
      const a = fsx.statSync(P(op.a));
      const b = fsx.statSync(P(op.b));
      return a.dev === b.dev && a.ino === b.ino;
    }
  }
}

export function sameResult(a: Result | undefined, b: Result | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function showResult(r: Result | undefined): string {
  if (r === undefined) return '(none)';
  if ('err' in r) return `error ${r.err}`;
  if ('skip' in r) return `skipped (${r.skip})`;
  return JSON.stringify(r.ok);
}
