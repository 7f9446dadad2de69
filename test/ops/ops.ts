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
import { posix } from 'node:path';

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

export type Result = { ok: unknown } | { err: string; detail?: unknown } | { skip: string };

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

/**
 * View path → path to hand to the fs. On the kernel side the view's root is a mount point, and
 * `${mnt}/` names it as an ordinary last component ('m' inside the scratch dir, on another
 * filesystem): rename/link then fail with EXDEV and open(O_CREAT|O_EXCL) with EISDIR (trailing-slash
 * rule), which a process whose root is the view never sees. `${mnt}/.` ends in a dot component, which
 * the kernel treats like the real root (rename: EBUSY, link: EEXIST, O_CREAT|O_EXCL: EEXIST, unlink:
 * EISDIR, mkdir/symlink: EEXIST). rmdir and rm keep `${mnt}/` (the root answers EBUSY; "." would be
 * EINVAL) — see `calls`.
 */
function p2(root: string, p: string): string {
  if (root === '/') return p;
  return /^\/+$/.test(p) ? `${root}/.` : root + p;
}

/** How a step calls the fs: `xSync(...)`, `x(..., cb)` or `promises.x(...)` (descriptors: a FileHandle). */
export type Flavour = 'sync' | 'callback' | 'promise';
export const FLAVOURS: readonly Flavour[] = ['sync', 'callback', 'promise'];

/**
 * The guard of a host-directory oracle (a temp directory standing for a root): the kernel guard,
 * and removing the directory itself, however spelled ('/', '/a/..'), is skipped: the directory is
 * no root of its own (a real root answers EBUSY; kernel-corners checks that in a chroot).
 */
export function hostGuard(root: string): (op: Op) => string | undefined {
  const kernel = kernelGuard(root);
  return (op) => ((op.op === 'rm' || op.op === 'rmdir') && posix.resolve('/', op.path) === '/' ? 'root-removal' : kernel(op));
}

export interface RunOptions {
  /** Decides, before an op runs, that it must be skipped (kernel side). */
  guard?: (op: Op) => string | undefined;
  /** Results of another run: ops skipped there are skipped here too (emulator side). */
  mirror?: Result[];
  /** More of an error than its code (fs-random compares syscall, path and message too). */
  errorDetail?: (e: unknown) => unknown;
}

/** What of fs.promises' FileHandle the runner uses. */
interface HandleLike {
  fd: number;
  close(): Promise<void>;
}
/** A held descriptor: a number (sync and callback opens) or a FileHandle (promise opens). */
type Slot = number | HandleLike;
/** One fs call an op makes: `fn` by its callback name, on a held descriptor when `slot` is set. */
interface Call {
  fn: string;
  args: unknown[];
  slot?: Slot;
}
/** FileHandle method of each descriptor call. */
const HANDLE_METHOD: Record<string, string> = {
  fstat: 'stat',
  read: 'read',
  write: 'write',
  ftruncate: 'truncate',
  fchmod: 'chmod',
  fchown: 'chown',
  futimes: 'utimes',
  fsync: 'sync',
  close: 'close',
};

type Fn = (...args: unknown[]) => unknown;
const fnOf = (o: unknown, name: string): Fn => {
  const f = (o as Record<string, unknown>)[name];
  if (typeof f !== 'function') throw new TypeError(`${name} is not a function`);
  return f.bind(o) as Fn;
};
/** read/write answer a count (sync, callback) or { bytesRead } / { bytesWritten } (FileHandle). */
function count(v: unknown): unknown {
  if (v && typeof v === 'object' && 'bytesRead' in v) return (v as { bytesRead: number }).bytesRead;
  if (v && typeof v === 'object' && 'bytesWritten' in v) return (v as { bytesWritten: number }).bytesWritten;
  return v;
}

function callSync(fsx: FsLike, c: Call): unknown {
  if (c.slot !== undefined && typeof c.slot !== 'number') throw new Error('a FileHandle in a sync run');
  const args = c.slot === undefined ? c.args : [c.slot, ...c.args];
  return fnOf(fsx, `${c.fn}Sync`)(...args);
}

async function callAsync(fsx: FsLike, c: Call, flavour: Flavour): Promise<unknown> {
  if (c.slot !== undefined && typeof c.slot !== 'number') return count(await fnOf(c.slot, HANDLE_METHOD[c.fn])(...c.args));
  if (flavour === 'sync') return callSync(fsx, c);
  const args = c.slot === undefined ? c.args : [c.slot, ...c.args];
  // A numeric descriptor has no promise form: its calls go through the callback API.
  if (flavour === 'promise' && c.slot === undefined) {
    if (c.fn === 'exists') return new Promise((resolve) => fnOf(fsx, 'exists')(...args, resolve));
    return fnOf((fsx as unknown as { promises: unknown }).promises, c.fn)(...args);
  }
  return new Promise((resolve, reject) => {
    let returned = false;
    const cb = (err: unknown, ...rest: unknown[]): void => {
      if (!returned) reject(new Error(`THROW(${c.fn}: callback called before the call returned)`));
      else if (c.fn === 'exists') resolve(err);
      else if (err) reject(err);
      else resolve(rest[0]);
    };
    fnOf(fsx, c.fn)(...args, cb);
    returned = true;
  });
}

/**
 * Runs ops one by one on one fs, holding the descriptors they open (slot → descriptor). The calls
 * of an op are written once (`calls`, a generator of fs calls) and driven synchronously (`runSync`)
 * or in any flavour (`run`); both sides of a comparison get the same flavour per step.
 */
export class OpRunner {
  private readonly fds = new Map<number, Slot>();
  private readonly P: (p: string) => string;
  constructor(
    private readonly fsx: FsLike,
    private readonly root: string,
    private readonly opts: RunOptions = {},
  ) {
    this.P = (p) => p2(root, p);
  }

  private before(op: Op, i: number): Result | undefined {
    const mirrored = this.opts.mirror?.[i];
    if (mirrored && 'skip' in mirrored) return mirrored;
    const reason = this.opts.guard?.(op);
    return reason ? { skip: reason } : undefined;
  }

  private error(e: unknown): Result {
    const r = errResult(e);
    return this.opts.errorDetail && 'err' in r ? { err: r.err, detail: this.opts.errorDetail(e) } : r;
  }

  /** Op `i` of a run (`i` indexes `mirror`), synchronously. */
  runSync(op: Op, i = 0): Result {
    const pre = this.before(op, i);
    if (pre) return pre;
    try {
      const g = calls(this.root, this.P, this.fds, op);
      let step = g.next();
      while (!step.done) step = g.next(callSync(this.fsx, step.value));
      return { ok: step.value };
    } catch (e) {
      return this.error(e);
    }
  }

  /** Op `i` of a run in `flavour`. */
  async run(op: Op, flavour: Flavour, i = 0): Promise<Result> {
    const pre = this.before(op, i);
    if (pre) return pre;
    try {
      const g = calls(this.root, this.P, this.fds, op);
      let step = g.next();
      while (!step.done) {
        let v: unknown;
        try {
          v = await callAsync(this.fsx, step.value, flavour);
        } catch (e) {
          step = g.throw(e);
          continue;
        }
        step = g.next(v);
      }
      return { ok: step.value };
    } catch (e) {
      return this.error(e);
    }
  }

  /** Closes every descriptor still held (sync runs). */
  closeAllSync(): void {
    for (const fd of this.fds.values()) {
      try {
        if (typeof fd === 'number') this.fsx.closeSync(fd);
      } catch {
        /* already gone */
      }
    }
    this.fds.clear();
  }

  /** Closes every descriptor still held, FileHandles too. */
  async closeAll(): Promise<void> {
    for (const fd of this.fds.values()) {
      try {
        if (typeof fd === 'number') this.fsx.closeSync(fd);
        else await fd.close();
      } catch {
        /* already gone */
      }
    }
    this.fds.clear();
  }
}

/** Runs `ops` against `fsx` (paths inside `root`), closing every descriptor it opened at the end. */
export function runOps(fsx: FsLike, root: string, ops: Op[], opts: RunOptions = {}): Result[] {
  const runner = new OpRunner(fsx, root, opts);
  try {
    return ops.map((op, i) => runner.runSync(op, i));
  } finally {
    runner.closeAllSync();
  }
}

/** The same, each op in the flavour `flavour(i)` picks. */
export async function runOpsAsync(fsx: FsLike, root: string, ops: Op[], flavour: (i: number) => Flavour, opts: RunOptions = {}): Promise<Result[]> {
  const runner = new OpRunner(fsx, root, opts);
  const out: Result[] = [];
  try {
    for (let i = 0; i < ops.length; i++) out.push(await runner.run(ops[i], flavour(i), i));
  } finally {
    await runner.closeAll();
  }
  return out;
}

/** The fs calls of one op; the value is the op's normalised result. */
function* calls(root: string, P: (p: string) => string, fds: Map<number, Slot>, op: Op): Generator<Call, unknown, unknown> {
  const PR = (p: string): string => (root === '/' ? p : root + p);
  const slot = (n: number): Slot => {
    const fd = fds.get(n);
    if (fd === undefined) throw Object.assign(new Error('slot not open'), { code: 'SLOT_NOT_OPEN' });
    return fd;
  };
  const c = (fn: string, ...args: unknown[]): Call => ({ fn, args });
  const f = (n: number, fn: string, ...args: unknown[]): Call => ({ fn, args, slot: slot(n) });
  switch (op.op) {
    case 'stat':
      return normStat((yield c('stat', P(op.path))) as StatsLike);
    case 'lstat':
      return normStat((yield c('lstat', P(op.path))) as StatsLike);
    case 'readdir':
      return ((yield c('readdir', P(op.path), { withFileTypes: true })) as DirentLike[]).map((d) => `${d.name}:${direntType(d)}`).sort();
    case 'readFile':
      return normData((yield c('readFile', P(op.path))) as Uint8Array);
    case 'writeFile': {
      const o: { flag?: string; mode?: number } = {};
      if (op.flag !== undefined) o.flag = op.flag;
      if (op.mode !== undefined) o.mode = op.mode;
      yield c('writeFile', P(op.path), op.data, o);
      return true;
    }
    case 'appendFile':
      yield c('appendFile', P(op.path), op.data);
      return true;
    case 'open': {
      if (fds.has(op.fd)) throw Object.assign(new Error('slot in use'), { code: 'SLOT_IN_USE' });
      fds.set(op.fd, (yield c('open', P(op.path), flagsOf(op.flags), op.mode ?? 0o666)) as Slot);
      return true;
    }
    case 'write': {
      const b = Buffer.from(op.data);
      return count(yield f(op.fd, 'write', b, 0, b.length, op.position ?? null));
    }
    case 'read': {
      const b = Buffer.alloc(op.length);
      const n = count(yield f(op.fd, 'read', b, 0, op.length, op.position ?? null)) as number;
      return normData(b.subarray(0, n));
    }
    case 'ftruncate':
      yield f(op.fd, 'ftruncate', op.length);
      return true;
    case 'fstat':
      return normStat((yield f(op.fd, 'fstat')) as StatsLike);
    case 'fchmod':
      yield f(op.fd, 'fchmod', op.mode);
      return true;
    case 'fchown':
      yield f(op.fd, 'fchown', op.uid, op.gid);
      return true;
    case 'futimes':
      yield f(op.fd, 'futimes', op.atime, op.mtime);
      return true;
    case 'fsync':
      yield f(op.fd, 'fsync');
      return true;
    case 'close': {
      const call = f(op.fd, 'close');
      fds.delete(op.fd);
      yield call;
      return true;
    }
    case 'truncate':
      yield c('truncate', P(op.path), op.length);
      return true;
    case 'unlink':
      yield c('unlink', P(op.path));
      return true;
    case 'rmdir':
      yield c('rmdir', PR(op.path));
      return true;
    case 'rm':
      yield c('rm', PR(op.path), { recursive: op.recursive ?? false, force: op.force ?? false });
      return true;
    case 'mkdir': {
      const r = yield c('mkdir', P(op.path), { recursive: op.recursive ?? false, mode: op.mode ?? 0o777 });
      return typeof r === 'string' ? toRel(root, r) : (r ?? null);
    }
    case 'rename':
      yield c('rename', P(op.from), P(op.to));
      return true;
    case 'symlink':
      yield c('symlink', op.target, P(op.path));
      return true;
    case 'readlink':
      return yield c('readlink', P(op.path));
    case 'link':
      yield c('link', P(op.from), P(op.to));
      return true;
    case 'chmod':
      yield c('chmod', P(op.path), op.mode);
      return true;
    case 'chown':
      yield c(op.nofollow ? 'lchown' : 'chown', P(op.path), op.uid, op.gid);
      return true;
    case 'utimes':
      yield c(op.nofollow ? 'lutimes' : 'utimes', P(op.path), op.atime, op.mtime);
      return true;
    case 'realpath':
      return toRel(root, (yield c('realpath', P(op.path))) as string);
    case 'copyFile':
      yield c('copyFile', P(op.from), P(op.to), op.excl ? nodefs.constants.COPYFILE_EXCL : 0);
      return true;
    case 'access':
      yield c('access', P(op.path), op.mode);
      return true;
    case 'exists':
      return yield c('exists', P(op.path));
    case 'sameFile': {
      const a = (yield c('stat', P(op.a))) as StatsLike;
      const b = (yield c('stat', P(op.b))) as StatsLike;
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
