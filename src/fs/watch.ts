/**
 * fs.watch and fs.promises.watch over a Core, from the changes made through it.
 *
 * `notifying(core)` is the core createFs uses: every call goes straight to the core; a change
 * that succeeds is, while someone watches (any watch is alive), turned into the
 * events Linux's inotify gives Node (probed with node:fs on a real directory, see
 * test/fs-node-watch.test.ts and docs/node-fs-tests.md):
 *
 * - a watched directory gets its children's events by name: created (open O_CREAT of a new file,
 *   mkdir, symlink, link), deleted (unlink, rmdir), moved from / to (rename), changed (write,
 *   truncate, O_TRUNC of an existing file: modified; chmod, chown, utimes: attributes). A child
 *   that is a directory is always 'rename' (inotify's IN_ISDIR bit makes libuv say rename).
 * - a watched object (file or directory, filename its basename as given) gets its own
 *   modifications and attribute changes, link-count changes (link, unlink of one of its names:
 *   'change' on a file), and when it goes (last name removed or renamed over) 'rename' twice
 *   (IN_DELETE_SELF, IN_IGNORED) and nothing after; when it is renamed, 'rename' once and it is
 *   still watched where it went (inotify watches inodes).
 * - consecutive identical inotify events not yet delivered to a watcher are one (inotify merges an
 *   event identical to the last unread one): a burst of writes is one 'change' (a creation and a
 *   move of the same name are two 'rename's).
 *
 * The feed is per core (a WeakMap), so every fs made over the same core sees the same changes;
 * a router core (src/mounts/router.ts, it has `where`) keeps its watches and events in the feed of
 * the mount core that holds each object, with the path inside that mount: a container's fs and
 * its union view's own fs see each other's changes to the container layer.
 * Events are delivered in a later turn (setImmediate), in order, never inside the call that made
 * the change. `recursive` (recursive-watch.ts) follows Node 20's own Linux implementation, which
 * is built from non-recursive watches.
 */
import { EventEmitter } from 'node:events';
import { constants as C } from 'node:fs';
import { posix } from 'node:path';
import type { Core, DirEntryInfo, StatFsInfo, StatInfo } from '../core/core.js';
import { FsError, fsError } from '../core/errors.js';
import { AbortError, validateAbortSignal } from './abort.js';
import { assertEncoding, validateBoolean, validateObject } from './args.js';
import { copyObject, encodeName, getOptions } from './options.js';
import { pathArg, pathString } from './paths.js';
import { RecursiveWatcher } from './recursive-watch.js';

type Kind = 'create' | 'delete' | 'from' | 'to' | 'modify' | 'attrib';

/** One inotify watch: the object's path now (it follows renames), and where its events go. */
export class Watch {
  dead = false;
  /** [eventType, filename, the inotify event it stands for]: only identical inotify events merge. */
  queue: Array<[string, string, string]> = [];
  scheduled = false;
  constructor(
    public path: string,
    readonly isDir: boolean,
    readonly base: string,
    readonly deliver: (eventType: string, name: string) => void,
    /** libuv's own recursive watch (fs.promises.watch): children anywhere below, by relative path. */
    readonly recursive = false,
  ) {}

  push(type: string, name: string, raw: string): void {
    if (this.dead) return;
    const last = this.queue[this.queue.length - 1];
    if (last !== undefined && last[2] === raw && last[1] === name) return;
    this.queue.push([type, name, raw]);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(flushWatch, this);
    }
  }
}

function flushWatch(w: Watch): void {
  w.scheduled = false;
  const q = w.queue;
  w.queue = [];
  for (const [type, name] of q) w.deliver(type, name);
}

/** Watches alive in the process: while there are none, a change costs one comparison. */
let live = 0;

/** What a core's watchers need: the watches, and each writable descriptor's path. */
export class Feed {
  readonly watches = new Set<Watch>();
  readonly fds = new Map<number, string>();

  add(w: Watch): void {
    this.watches.add(w);
    live++;
  }

  remove(w: Watch): void {
    if (this.watches.delete(w)) live--;
  }

  /** An event of the object at canonical `path`: to its directory's watches, and (changes) its own. */
  notify(path: string, kind: Kind, isDir: boolean): void {
    const dir = posix.dirname(path);
    const name = posix.basename(path);
    const self = kind === 'modify' || kind === 'attrib';
    for (const w of this.watches) {
      if (w.isDir && w.path === dir && path !== '/') w.push(self && !isDir ? 'change' : 'rename', name, kind);
      else if (w.recursive && path.startsWith(w.path === '/' ? '/' : `${w.path}/`) && path !== w.path) {
        w.push(self && !isDir ? 'change' : 'rename', posix.relative(w.path, path), kind);
      }
      if (self && w.path === path) w.push(isDir ? 'rename' : 'change', w.base, kind === 'modify' ? 'self modify' : 'self attrib');
    }
  }

  /** A change only the object's own watches see (its link count). */
  selfOnly(path: string, isDir: boolean): void {
    for (const w of this.watches) if (w.path === path) w.push(isDir ? 'rename' : 'change', w.base, 'self attrib');
  }

  /** The object is gone: IN_DELETE_SELF, IN_IGNORED, and the watch ends. */
  gone(path: string): void {
    for (const w of this.watches) {
      if (w.path !== path) continue;
      w.push('rename', w.base, 'delete self');
      w.push('rename', w.base, 'ignored');
      w.dead = true;
      this.remove(w);
    }
  }

  /** The object moved: IN_MOVE_SELF, and every watch at or below it follows. */
  moved(from: string, to: string): void {
    const below = from + '/';
    for (const w of this.watches) {
      if (w.path === from) {
        w.push('rename', w.base, 'move self');
        w.path = to;
      } else if (w.path.startsWith(below)) {
        w.path = to + w.path.slice(from.length);
      }
    }
  }
}

const feeds = new WeakMap<Core, Feed>();

export function feedOf(core: Core): Feed {
  let f = feeds.get(core);
  if (f === undefined) {
    f = new Feed();
    feeds.set(core, f);
  }
  return f;
}

/** The canonical path of the object a path names without following its last component. */
function canon(core: Core, path: string): string | undefined {
  const p = path.replace(/\/+$/, '');
  const name = posix.basename(p);
  if (p === '' || name === '.' || name === '..') return real(core, path);
  const dir = real(core, posix.dirname(p));
  if (dir === undefined) return undefined;
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function real(core: Core, path: string): string | undefined {
  try {
    return core.realpath(path);
  } catch {
    return undefined;
  }
}

function lstatOf(core: Core, path: string | undefined): StatInfo | undefined {
  if (path === undefined) return undefined;
  try {
    return core.tryStat(path, false);
  } catch {
    return undefined;
  }
}

/** A core that serves its paths from other cores (the mount router): where a path's object is. */
interface Routing {
  where(path: string): { mount: { core: Core; target: string }; rel: string };
}

function routes(core: Core): core is Core & Routing {
  return typeof (core as Partial<Routing>).where === 'function';
}

/**
 * The feed and path, in the core that holds it, of the object at canonical `path` of `core` (its
 * last component not followed): a router's mount core, or `core` itself. Watches and events are
 * kept there, so that every fs over that core (a view's own fs, a container's) sees them.
 */
export function ownerOf(core: Core, path: string): { feed: Feed; path: string } | undefined {
  if (!routes(core)) return { feed: feedOf(core), path };
  try {
    const at = core.where(path);
    if (at.mount.target === path || path === '/') return { feed: feedOf(at.mount.core), path: at.rel };
    const dir = core.where(posix.dirname(path));
    return { feed: feedOf(dir.mount.core), path: posix.join(dir.rel, posix.basename(path)) };
  } catch {
    return undefined;
  }
}

const isDirMode = (st: StatInfo | undefined): boolean => st !== undefined && (st.mode & C.S_IFMT) === C.S_IFDIR;

/** A Core that reports its changes to the feed of `core`; the calls themselves are the core's. */
export class NotifyingCore implements Core {
  /** The descriptors' paths are kept in the feed of the inner core (shared by every fs over it). */
  readonly feed: Feed;
  statOrCode?: (path: string, follow: boolean) => StatInfo | string;
  statfs?: (path: string) => StatFsInfo;

  constructor(readonly inner: Core) {
    this.feed = feedOf(inner);
    if (inner.statOrCode) this.statOrCode = inner.statOrCode.bind(inner);
    if (inner.statfs) this.statfs = inner.statfs.bind(inner);
  }

  stat(path: string, follow: boolean): StatInfo {
    return this.inner.stat(path, follow);
  }
  tryStat(path: string, follow: boolean): StatInfo | undefined {
    return this.inner.tryStat(path, follow);
  }
  access(path: string, mode: number): void {
    this.inner.access(path, mode);
  }
  readdir(path: string): DirEntryInfo[] {
    return this.inner.readdir(path);
  }
  readlink(path: string): string {
    return this.inner.readlink(path);
  }
  realpath(path: string): string {
    return this.inner.realpath(path);
  }
  read(fd: number, b: Uint8Array, o: number, l: number, p: number | null): number {
    return this.inner.read(fd, b, o, l, p);
  }
  fstat(fd: number): StatInfo {
    return this.inner.fstat(fd);
  }
  fsync(fd: number): void {
    this.inner.fsync(fd);
  }

  mkdir(path: string, mode: number): void {
    this.inner.mkdir(path, mode);
    if (live === 0) return;
    const c = canon(this.inner, path);
    if (c !== undefined) this.notify(c, 'create', true);
  }
  symlink(target: string, path: string): void {
    this.inner.symlink(target, path);
    if (live === 0) return;
    const c = canon(this.inner, path);
    if (c !== undefined) this.notify(c, 'create', false);
  }
  link(existing: string, newPath: string): void {
    this.inner.link(existing, newPath);
    if (live === 0) return;
    const e = canon(this.inner, existing);
    if (e !== undefined) this.selfOnly(e, false);
    const c = canon(this.inner, newPath);
    if (c !== undefined) this.notify(c, 'create', false);
  }
  unlink(path: string): void {
    if (live === 0) {
      this.inner.unlink(path);
      return;
    }
    const c = canon(this.inner, path);
    const st = lstatOf(this.inner, c);
    this.inner.unlink(path);
    if (c === undefined) return;
    this.selfOnly(c, false);
    this.notify(c, 'delete', false);
    if (st === undefined || st.nlink <= 1) this.gone(c);
  }
  rmdir(path: string): void {
    if (live === 0) {
      this.inner.rmdir(path);
      return;
    }
    const c = canon(this.inner, path);
    this.inner.rmdir(path);
    if (c === undefined) return;
    this.notify(c, 'delete', true);
    this.gone(c);
  }
  rename(from: string, to: string): void {
    if (live === 0) {
      this.inner.rename(from, to);
      return;
    }
    const cf = canon(this.inner, from);
    const ct = canon(this.inner, to);
    const sf = lstatOf(this.inner, cf);
    const st = lstatOf(this.inner, ct);
    this.inner.rename(from, to);
    if (cf === undefined || ct === undefined || sf === undefined) return;
    // rename(2) of a name onto itself or onto another name of the same inode does nothing.
    if (cf === ct || (st !== undefined && st.ino === sf.ino && st.dev === sf.dev)) return;
    const dir = isDirMode(sf);
    this.notify(cf, 'from', dir);
    this.notify(ct, 'to', dir);
    if (st !== undefined) {
      if (!isDirMode(st)) this.selfOnly(ct, false);
      if (isDirMode(st) || st.nlink <= 1) this.gone(ct);
    }
    const below = cf + '/';
    for (const [fd, p] of this.feed.fds) {
      if (p === cf || p.startsWith(below)) this.feed.fds.set(fd, ct + p.slice(cf.length));
    }
    const of = ownerOf(this.inner, cf);
    const ot = ownerOf(this.inner, ct);
    if (of !== undefined && ot !== undefined && of.feed === ot.feed) of.feed.moved(of.path, ot.path);
  }
  private notify(path: string, kind: Kind, isDir: boolean): void {
    const o = ownerOf(this.inner, path);
    if (o !== undefined) o.feed.notify(o.path, kind, isDir);
  }
  private selfOnly(path: string, isDir: boolean): void {
    const o = ownerOf(this.inner, path);
    if (o !== undefined) o.feed.selfOnly(o.path, isDir);
  }
  private gone(path: string): void {
    const o = ownerOf(this.inner, path);
    if (o !== undefined) o.feed.gone(o.path);
  }
  chmod(path: string, mode: number, follow: boolean): void {
    this.inner.chmod(path, mode, follow);
    if (live !== 0) this.attrib(path, follow);
  }
  chown(path: string, uid: number, gid: number, follow: boolean): void {
    this.inner.chown(path, uid, gid, follow);
    if (live !== 0) this.attrib(path, follow);
  }
  utimes(path: string, atimeMs: number, mtimeMs: number, follow: boolean): void {
    this.inner.utimes(path, atimeMs, mtimeMs, follow);
    if (live !== 0) this.attrib(path, follow);
  }
  private attrib(path: string, follow: boolean): void {
    const c = follow ? real(this.inner, path) : canon(this.inner, path);
    if (c !== undefined) this.notify(c, 'attrib', isDirMode(lstatOf(this.inner, c)));
  }
  truncate(path: string, length: number): void {
    this.inner.truncate(path, length);
    if (live === 0) return;
    const c = real(this.inner, path);
    if (c !== undefined) this.notify(c, 'modify', false);
  }

  open(path: string, flags: number, mode: number): number {
    const writes = (flags & 3) !== C.O_RDONLY;
    if (live === 0) {
      const fd = this.inner.open(path, flags, mode);
      if (writes) this.feed.fds.set(fd, path);
      return fd;
    }
    const existed = this.inner.tryStat(path, (flags & C.O_NOFOLLOW) === 0) !== undefined;
    const fd = this.inner.open(path, flags, mode);
    // While watched, the canonical path: a rename moves it (see rename).
    if (writes) this.feed.fds.set(fd, real(this.inner, path) ?? path);
    if (!existed && (flags & C.O_CREAT) !== 0) {
      const c = real(this.inner, path);
      if (c !== undefined) this.notify(c, 'create', false);
    } else if (existed && writes && (flags & C.O_TRUNC) !== 0) {
      const c = real(this.inner, path);
      if (c !== undefined) this.notify(c, 'modify', false);
    }
    return fd;
  }
  close(fd: number): void {
    this.inner.close(fd);
    this.feed.fds.delete(fd);
  }
  write(fd: number, b: Uint8Array, o: number, l: number, p: number | null): number {
    const n = this.inner.write(fd, b, o, l, p);
    if (n > 0 && live !== 0) this.byFd(fd, 'modify');
    return n;
  }
  ftruncate(fd: number, length: number): void {
    this.inner.ftruncate(fd, length);
    if (live !== 0) this.byFd(fd, 'modify');
  }
  fchmod(fd: number, mode: number): void {
    this.inner.fchmod(fd, mode);
    if (live !== 0) this.byFd(fd, 'attrib');
  }
  fchown(fd: number, uid: number, gid: number): void {
    this.inner.fchown(fd, uid, gid);
    if (live !== 0) this.byFd(fd, 'attrib');
  }
  futimes(fd: number, a: number, m: number): void {
    this.inner.futimes(fd, a, m);
    if (live !== 0) this.byFd(fd, 'attrib');
  }
  private byFd(fd: number, kind: Kind): void {
    const p = this.feed.fds.get(fd);
    const c = p === undefined ? undefined : real(this.inner, p);
    if (c !== undefined) this.notify(c, kind, isDirMode(lstatOf(this.inner, c)));
  }
}

export function notifying(core: Core): NotifyingCore {
  return core instanceof NotifyingCore ? core : new NotifyingCore(core);
}

/** A do-nothing interval callback: the ref'd timer is what keeps the process alive. */
function keepAlive(): void {}

function emitClose(w: EventEmitter): void {
  w.emit('close');
}

const KEEP_ALIVE_MS = 2 ** 31 - 1;

/** Node's FSWatcher (the non-recursive one): 'change' (eventType, filename), 'error', 'close'. */
export class FSWatcher extends EventEmitter {
  #feed: Feed | null = null;
  #watch: Watch | null = null;
  #timer: NodeJS.Timeout | null = null;
  #encoding: unknown = 'utf8';
  #closed = false;

  /** @internal Node's kFSWatchStart: throws the watch error (ENOENT...) as libuv reports it. */
  begin(core: Core, filename: unknown, persistent: unknown, encoding: unknown, recursive = false): void {
    if (this.#closed || this.#watch !== null) return;
    const { abs, shown } = pathArg(filename);
    let st: StatInfo;
    let path: string;
    try {
      st = core.stat(abs, true);
      path = core.realpath(abs);
    } catch (e) {
      if (!(e instanceof FsError)) throw e;
      const err = fsError(e.code, 'watch', shown) as FsError & { filename?: string };
      err.filename = shown;
      throw err;
    }
    const owner = ownerOf(core, path);
    if (owner === undefined) throw fsError('ENOENT', 'watch', shown);
    this.#encoding = encoding;
    const dir = isDirMode(st);
    this.#watch = new Watch(owner.path, dir, posix.basename(shown.replace(/\/+$/, '')) || shown, this.#deliver.bind(this), recursive && dir);
    this.#feed = owner.feed;
    owner.feed.add(this.#watch);
    this.#timer = setInterval(keepAlive, KEEP_ALIVE_MS);
    if (!persistent) this.#timer.unref();
  }

  #deliver(eventType: string, name: string): void {
    if (this.#closed) return;
    this.emit('change', eventType, encodeName(name, this.#encoding));
  }

  /** Deprecated and a no-op, as in Node. */
  start(): void {}

  close(): void {
    if (this.#closed || this.#watch === null) return;
    this.#closed = true;
    this.#feed?.remove(this.#watch);
    this.#watch.dead = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    process.nextTick(emitClose, this);
  }

  ref(): this {
    this.#timer?.ref();
    return this;
  }

  unref(): this {
    this.#timer?.unref();
    return this;
  }
}

/** What watch() needs of the fs: its core's feed, and the calls the recursive watcher makes. */
export interface WatchFs {
  statSync(path: string): { isFile(): boolean; isDirectory(): boolean; birthtimeMs: number };
  readdirSync(path: string, options: { withFileTypes: true }): Array<{ name: string; isSymbolicLink(): boolean; isDirectory(): boolean }>;
  watch(path: string, options: object, listener: (eventType: string, filename: unknown) => void): { close(): void };
}

export interface Watcher extends EventEmitter {
  close(): void;
  ref(): this;
  unref(): this;
}

function closeOnAbort(this: FSWatcher | Watcher): void {
  this.close();
}

/** fs.watch(filename[, options][, listener]) over `core` (a NotifyingCore's inner core). */
export function watch(core: NotifyingCore, fs: WatchFs, filename: unknown, options: unknown, listener?: unknown): Watcher {
  if (typeof options === 'function') listener = options;
  const o = copyObject(getOptions(options));
  if (o.persistent === undefined) o.persistent = true;
  if (o.recursive === undefined) o.recursive = false;
  let watcher: Watcher;
  if (o.recursive) {
    const r = new RecursiveWatcher(fs, o);
    r.begin(filename);
    watcher = r;
  } else {
    const w = new FSWatcher();
    w.begin(core.inner, filename, o.persistent, o.encoding);
    watcher = w;
  }
  if (listener) watcher.addListener('change', listener as (...args: unknown[]) => void);
  const signal = o.signal as AbortSignal | undefined;
  if (signal) {
    if (signal.aborted) process.nextTick(closeWatcher, watcher);
    else {
      const onAbort = closeOnAbort.bind(watcher);
      signal.addEventListener('abort', onAbort);
      watcher.once('close', removeAbort.bind(null, signal, onAbort));
    }
  }
  return watcher;
}

function closeWatcher(w: Watcher): void {
  w.close();
}

function removeAbort(signal: AbortSignal, onAbort: () => void): void {
  signal.removeEventListener('abort', onAbort);
}

/** fs.promises.watch(filename, options): an async iterator of { eventType, filename }, as Node's. */
export async function* watchPromise(core: NotifyingCore, filename: unknown, options: unknown = {}): AsyncGenerator<{ eventType: string; filename: unknown }> {
  pathString(filename);
  validateObject(options, 'options');
  const { persistent = true, recursive = false, encoding = 'utf8', signal } = options as Record<string, unknown>;
  validateBoolean(persistent, 'options.persistent');
  validateBoolean(recursive, 'options.recursive');
  validateAbortSignal(signal, 'options.signal');
  if (encoding) assertEncoding(encoding);
  const s = signal as AbortSignal | undefined;
  if (s?.aborted) throw new AbortError(undefined, { cause: s.reason });
  const pending: Array<{ eventType: string; filename: unknown }> = [];
  let wake: ((v: unknown) => void) | null = null;
  let failed: unknown;
  const w = new FSWatcher();
  w.on('change', (eventType: string, name: unknown) => {
    pending.push({ eventType, filename: name });
    wake?.(undefined);
  });
  const onAbort = () => {
    failed = new AbortError(undefined, { cause: s?.reason });
    wake?.(undefined);
  };
  try {
    s?.addEventListener('abort', onAbort, { once: true });
    // Node hands `recursive` to libuv here (not to its own recursive watcher, as fs.watch does).
    w.begin(core.inner, filename, persistent, encoding, recursive === true);
    while (true) {
      while (pending.length === 0 && failed === undefined) {
        await new Promise((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
      if (failed !== undefined) throw failed;
      yield pending.shift()!;
      if (s?.aborted) throw new AbortError(undefined, { cause: s.reason });
    }
  } finally {
    w.close();
    s?.removeEventListener('abort', onAbort);
  }
}
