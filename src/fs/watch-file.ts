/**
 * fs.watchFile / fs.unwatchFile: Node's StatWatcher (lib/internal/fs/watchers.js) over libuv's
 * uv_fs_poll, made from the core's stat. The file is stat-ed at once (in a later turn), then every
 * `interval` ms from the start; the listener gets (curr, prev) when the stat differs from the last
 * good one (ctime, mtime, birthtime, size, mode, uid, gid, ino, dev), when the stat starts failing
 * (curr all zeros) and when it stops failing (prev the last good stat, or zeros). A repeated
 * failure with the same error is not reported again. One watcher per path (resolved from the
 * view's root), counting its listeners' refs as Node's; `persistent: false` or unref() lets the
 * process exit. stop() emits 'stop' on the next tick.
 */
import { EventEmitter } from 'node:events';
import { constants as osConstants } from 'node:os';
import type { Core, StatInfo } from '../core/core.js';
import { validateFunction, validateUint32 } from './args.js';
import { pathArg } from './paths.js';
import { toStats } from './stats.js';

const ZERO: StatInfo = { dev: 0, ino: 0, mode: 0, nlink: 0, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 0, blocks: 0, atimeMs: 0, mtimeMs: 0, ctimeMs: 0, birthtimeMs: 0 };

const ERRNO = osConstants.errno as Record<string, number>;

/** libuv's statbuf_eq (atime and nlink are not compared). */
function same(a: StatInfo, b: StatInfo): boolean {
  return (
    a.ctimeMs === b.ctimeMs
    && a.mtimeMs === b.mtimeMs
    && a.birthtimeMs === b.birthtimeMs
    && a.size === b.size
    && a.mode === b.mode
    && a.uid === b.uid
    && a.gid === b.gid
    && a.ino === b.ino
    && a.dev === b.dev
  );
}

function emitStop(w: StatWatcher): void {
  w.emit('stop');
}

function pollOf(w: StatWatcher): void {
  w[POLL]();
}

const POLL = Symbol('poll');

export class StatWatcher extends EventEmitter {
  #core: Core;
  #bigint: boolean;
  #path = '';
  #interval = 0;
  #startedAt = 0;
  #timer: NodeJS.Timeout | null = null;
  #handleRefed = true;
  /** Node's kOldStatus. */
  #oldStatus = -1;
  /** uv_fs_poll's busy_polling: 0 before the first stat, 1 after a good one, the error's status after a failing one. */
  #busy = 0;
  #last: StatInfo = ZERO;
  #refCount = 1;
  #maxRefCount = 1;

  /** @internal made by watchFile */
  constructor(core: Core, bigint: boolean) {
    super();
    this.#core = core;
    this.#bigint = bigint;
  }

  /** @internal Node's kFSStatWatcherStart */
  begin(path: string, persistent: unknown, interval: unknown): void {
    if (this.#timer !== null) return;
    if (!persistent) this.unref();
    this.#oldStatus = -1;
    validateUint32(interval, 'interval');
    this.#path = path;
    this.#interval = interval;
    this.#startedAt = Date.now();
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(pollOf, ms, this);
    if (!this.#handleRefed) this.#timer.unref();
  }

  /** @internal one poll: stat, report, schedule the next at the interval's next multiple. */
  [POLL](): void {
    if (this.#timer === null) return;
    let info: StatInfo | undefined;
    let status = 0;
    try {
      info = this.#core.stat(this.#path, true);
    } catch (e) {
      status = -(ERRNO[(e as { code?: string }).code ?? ''] ?? ERRNO.EIO);
    }
    if (info === undefined) {
      if (this.#busy !== status) {
        this.#busy = status;
        this.#onchange(status, ZERO, this.#last);
      }
    } else {
      const report = this.#busy !== 0 && (this.#busy < 0 || !same(this.#last, info));
      const prev = this.#last;
      this.#last = info;
      this.#busy = 1;
      if (report) this.#onchange(0, info, prev);
    }
    if (this.#timer === null) return;
    const interval = Math.max(1, this.#interval);
    this.#schedule(interval - ((Date.now() - this.#startedAt) % interval));
  }

  #onchange(newStatus: number, curr: StatInfo, prev: StatInfo): void {
    if (this.#oldStatus === -1 && newStatus === -1 && curr.nlink === prev.nlink) return;
    this.#oldStatus = newStatus;
    this.emit('change', toStats(curr, this.#bigint), toStats(prev, this.#bigint));
  }

  /** Deprecated and a no-op, as in Node. */
  start(): void {}

  stop(): void {
    if (this.#timer === null) return;
    process.nextTick(emitStop, this);
    clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** @internal Node's kFSStatWatcherAddOrCleanRef */
  addOrCleanRef(operate: 'add' | 'clean' | 'cleanAll'): void {
    if (operate === 'add') {
      this.#refCount++;
      this.#maxRefCount++;
    } else if (operate === 'clean') {
      this.#maxRefCount--;
      this.unref();
    } else {
      this.#maxRefCount = 0;
      this.#refCount = 0;
      this.#handleRef(false);
    }
  }

  #handleRef(on: boolean): void {
    this.#handleRefed = on;
    if (this.#timer) {
      if (on) this.#timer.ref();
      else this.#timer.unref();
    }
  }

  ref(): this {
    // As Node's: counted, so that each listener's unref is undone by its ref only.
    if (this.#refCount === this.#maxRefCount) return this;
    if (this.#refCount++ === 0) this.#handleRef(true);
    return this;
  }

  unref(): this {
    if (this.#refCount === 0) return this;
    if (--this.#refCount === 0) this.#handleRef(false);
    return this;
  }
}

export interface Watching {
  watchFile(filename: unknown, options: unknown, listener?: unknown): StatWatcher;
  unwatchFile(filename: unknown, listener?: unknown): void;
}

/** watchFile and unwatchFile over `core`, sharing one watcher per path. */
export function watchFileApi(core: Core): Watching {
  const watchers = new Map<string, StatWatcher>();
  return {
    watchFile(filename: unknown, options: unknown, listener?: unknown): StatWatcher {
      const path = pathArg(filename).abs;
      if (options === null || typeof options !== 'object') {
        listener = options;
        options = null;
      }
      const o = { interval: 5007, persistent: true, ...(options as object | null) } as { interval: unknown; persistent: unknown; bigint?: unknown };
      validateFunction(listener, 'listener');
      let w = watchers.get(path);
      if (w === undefined) {
        w = new StatWatcher(core, o.bigint === true);
        w.begin(path, o.persistent, o.interval);
        watchers.set(path, w);
      } else {
        w.addOrCleanRef('add');
      }
      w.addListener('change', listener);
      return w;
    },
    unwatchFile(filename: unknown, listener?: unknown): void {
      const path = pathArg(filename).abs;
      const w = watchers.get(path);
      if (w === undefined) return;
      if (typeof listener === 'function') {
        const before = w.listenerCount('change');
        w.removeListener('change', listener as (...args: unknown[]) => void);
        if (w.listenerCount('change') < before) w.addOrCleanRef('clean');
      } else {
        w.removeAllListeners('change');
        w.addOrCleanRef('cleanAll');
      }
      if (w.listenerCount('change') === 0) {
        w.stop();
        watchers.delete(path);
      }
    },
  };
}
