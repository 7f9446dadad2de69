/**
 * fs.watch(path, { recursive: true }) as Node 20 does it on Linux (lib/internal/fs/recursive_watch.js
 * of v20.20: libuv has no recursive inotify watch there): a non-recursive watch on the root and on
 * every file and directory below it, found with readdirSync. What each reports is stat-ed again:
 * gone ('rename', relative path; its watches end), the watched file itself ('change', its
 * basename), a symlink ('rename'), a directory (read again: each new entry is 'rename' and is
 * watched), anything else ('change', relative path). Every entry found when the watch starts is
 * reported once as 'rename', as Node does. ref()/unref() do nothing, as Node's (its map holds
 * Stats, never a StatWatcher). The calls go through the view's own fs.
 */
import { EventEmitter } from 'node:events';
import { posix } from 'node:path';
import { AbortError, validateAbortSignal } from './abort.js';
import { invalidArgValue, validateBoolean } from './args.js';
import { pathArg } from './paths.js';
import type { WatchFs } from './watch.js';

interface Inner {
  close(): void;
}

type StatLike = ReturnType<WatchFs['statSync']>;

export class RecursiveWatcher extends EventEmitter {
  #fs: WatchFs;
  #persistent: unknown;
  #signal: AbortSignal | undefined;
  #closed = false;
  #root = '/';
  #watchingFile = false;
  #stats = new Map<string, StatLike>();
  #watchers = new Map<string, Inner>();
  #symlinks = new Set<string>();

  /** @internal made by watch() */
  constructor(fs: WatchFs, options: Record<string, unknown>) {
    super();
    const { persistent, recursive, signal, encoding } = options;
    if (recursive != null) validateBoolean(recursive, 'options.recursive');
    if (persistent != null) validateBoolean(persistent, 'options.persistent');
    if (signal != null) validateAbortSignal(signal, 'options.signal');
    if (encoding != null && typeof encoding !== 'string') throw invalidArgValue('options.encoding', encoding);
    this.#fs = fs;
    this.#persistent = persistent;
    this.#signal = signal as AbortSignal | undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    this.#stats.clear();
    this.#symlinks.clear();
    this.emit('close');
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  #relative(p: string): string {
    return posix.relative(this.#root, p);
  }

  #forget(prefix: string): void {
    this.#symlinks.delete(prefix);
    for (const p of [...this.#stats.keys()]) {
      if (!p.startsWith(prefix)) continue;
      this.#stats.delete(p);
      this.#watchers.get(p)?.close();
      this.#watchers.delete(p);
    }
  }

  #readFolder(folder: string): void {
    try {
      for (const entry of this.#fs.readdirSync(folder, { withFileTypes: true })) {
        if (this.#closed) break;
        const p = posix.join(folder, entry.name);
        if (this.#stats.has(p)) continue;
        this.emit('change', 'rename', this.#relative(p));
        if (entry.isSymbolicLink()) this.#symlinks.add(p);
        try {
          this.#watchPath(p);
          if (entry.isDirectory() && !entry.isSymbolicLink()) this.#readFolder(p);
        } catch (e) {
          if ((e as { code?: string }).code !== 'ENOENT') throw e;
        }
      }
    } catch (e) {
      this.emit('error', e);
    }
  }

  #onEvent(p: string): void {
    const before = this.#stats.get(p);
    let now: StatLike | undefined;
    try {
      now = this.#fs.statSync(p);
      this.#stats.set(p, now);
    } catch {
      // removed
    }
    if (now === undefined || (now.birthtimeMs === 0 && before !== undefined && before.birthtimeMs !== 0)) {
      this.#stats.delete(p);
      this.#watchers.get(p)?.close();
      this.#watchers.delete(p);
      this.emit('change', 'rename', this.#relative(p));
      this.#forget(p);
    } else if (p === this.#root && this.#watchingFile) {
      this.emit('change', 'change', posix.basename(p));
    } else if (this.#symlinks.has(p)) {
      this.emit('change', 'rename', this.#relative(p));
    } else if (now.isDirectory()) {
      this.#readFolder(p);
    } else {
      this.emit('change', 'change', this.#relative(p));
    }
  }

  #watchPath(p: string): void {
    if (this.#closed || this.#stats.has(p)) return;
    this.#stats.set(p, this.#fs.statSync(p));
    const w = this.#fs.watch(p, { persistent: this.#persistent }, this.#onEvent.bind(this, p));
    this.#watchers.set(p, w);
  }

  /** @internal Node's kFSWatchStart */
  begin(filename: unknown): void {
    const root = posix.resolve(pathArg(filename, 'filename').abs);
    try {
      const st = this.#fs.statSync(root);
      this.#root = root;
      this.#closed = false;
      this.#watchingFile = st.isFile();
      this.#watchPath(root);
      if (st.isDirectory()) this.#readFolder(root);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') {
        (e as { filename?: string }).filename = root;
        throw e;
      }
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<{ eventType: string; filename: string }> {
    return new RecursiveIterator(this, this.#signal, () => this.#closed);
  }
}

class RecursiveIterator implements AsyncIterator<{ eventType: string; filename: string }> {
  constructor(
    private readonly w: EventEmitter,
    private readonly signal: AbortSignal | undefined,
    private readonly closed: () => boolean,
  ) {}

  next(): Promise<IteratorResult<{ eventType: string; filename: string }>> {
    if (this.closed()) return Promise.resolve({ done: true, value: undefined });
    const signal = this.signal;
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new AbortError(undefined, { cause: signal?.reason }));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.w.once('change', (eventType: string, filename: string) => {
        signal?.removeEventListener('abort', onAbort);
        resolve({ done: false, value: { eventType, filename } });
      });
    });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
