/**
 * fs.Dir (opendir): entries one at a time, by readSync(), read(cb) or read() (a promise), or
 * `for await`, as Node 20's lib/internal/fs/dir.js hands them out:
 *
 * - A Dir reads its directory handle `bufferSize` entries at a time into a buffer and gives them
 *   out one by one. A read() that finds the buffer empty reads the handle asynchronously (the
 *   result in a later turn); until it completes, further read()/close() calls wait their turn and
 *   readSync()/closeSync() throw ERR_DIR_CONCURRENT_OPERATION. After close(), ERR_DIR_CLOSED.
 * - The handle (DirHandle) is the listing the core made when the directory was opened (the core
 *   has no directory streams), so names created afterwards are not seen and removed ones still
 *   are. Errors of the listing carry syscall 'opendir'.
 * - `recursive`: a subdirectory's entries are added when its entry is read, and (as in Node 20)
 *   only its first `bufferSize` entries.
 * - `new Dir(handle, path, options)` is Node's public constructor: no handle is ERR_MISSING_ARGS.
 */
import { posix } from 'node:path';
import { FsError } from '../core/errors.js';
import { nodeError, outOfRange, validateFunction, validateUint32 } from './args.js';
import type { Core, DirEntryInfo } from '../core/core.js';
import { Dirent, uvDirentType } from './dirent.js';
import { encodeName, getOptions } from './options.js';
import { onPaths, pathArg, toAbs, type PathArg } from './paths.js';

function dirClosed(): Error {
  return nodeError(Error, 'ERR_DIR_CLOSED', 'Directory handle was closed');
}

function concurrent(): Error {
  return nodeError(Error, 'ERR_DIR_CONCURRENT_OPERATION', 'Cannot do synchronous work on directory handle with concurrent asynchronous operations');
}

/** A directory handle: the entries listed when it was opened, handed out `n` at a time. */
export class DirHandle {
  #entries: DirEntryInfo[];

  private constructor(
    readonly core: Core,
    entries: DirEntryInfo[],
  ) {
    this.#entries = entries;
  }

  static open(core: Core, p: PathArg): DirHandle {
    try {
      return new DirHandle(
        core,
        onPaths('opendir', p, undefined, () => core.readdir(p.abs)),
      );
    } catch (e) {
      throw e instanceof FsError && e.syscall === 'scandir' ? new FsError(e.code, 'opendir', e.path, e.dest) : e;
    }
  }

  /** Up to `n` entries, or null at the end. */
  read(n: number): DirEntryInfo[] | null {
    return this.#entries.length === 0 ? null : this.#entries.splice(0, n);
  }

  close(): void {
    this.#entries = [];
  }
}

type ReadCallback = (err: Error | null, dirent?: Dirent | null) => void;
interface DirOptions {
  bufferSize: number;
  encoding?: unknown;
  recursive?: unknown;
}

export class Dir {
  #handle: DirHandle;
  #path: string;
  #buffered: Dirent[] = [];
  #closed = false;
  /** null, or the operations waiting for the asynchronous read under way. */
  #queue: Array<() => void> | null = null;
  #options: DirOptions;

  constructor(handle: DirHandle, path: string, options?: unknown) {
    if (handle == null) throw nodeError(TypeError, 'ERR_MISSING_ARGS', 'The "handle" argument must be specified');
    this.#handle = handle;
    this.#path = path;
    this.#options = { bufferSize: 32, ...getOptions(options, { encoding: 'utf8' }) } as DirOptions;
    validateUint32(this.#options.bufferSize, 'options.bufferSize');
    if (this.#options.bufferSize === 0) throw outOfRange('options.bufferSize', '>= 1 && <= 4294967295', 0);
  }

  get path(): string {
    return this.#path;
  }

  #take(path: string, entries: DirEntryInfo[]): void {
    for (const e of entries) this.#buffered.push(new Dirent(encodeName(e.name, this.#options.encoding), uvDirentType(e.type), path));
  }

  /** The next buffered entry; a directory's own entries join the buffer when recursive. */
  #next(): Dirent {
    const d = this.#buffered.shift()!;
    if (this.#options.recursive && d.isDirectory()) {
      const sub = posix.join(d.parentPath, String(d.name));
      const h = DirHandle.open(this.#handle.core, { abs: toAbs(sub), shown: sub });
      const first = h.read(this.#options.bufferSize);
      if (first) this.#take(sub, first);
      h.close();
    }
    return d;
  }

  read(): Promise<Dirent | null>;
  read(callback: ReadCallback): void;
  read(callback?: ReadCallback): Promise<Dirent | null> | undefined {
    return this.#read(true, callback);
  }

  #read(maybeSync: boolean, callback?: ReadCallback): Promise<Dirent | null> | undefined {
    if (this.#closed) throw dirClosed();
    if (callback === undefined) {
      return new Promise((resolve, reject) => this.#read(false, (e, d) => (e ? reject(e) : resolve(d ?? null))));
    }
    validateFunction(callback, 'callback');
    if (this.#queue !== null) {
      this.#queue.push(() => this.#read(maybeSync, callback));
      return;
    }
    if (this.#buffered.length > 0) {
      try {
        const d = this.#next();
        if (maybeSync) process.nextTick(callback, null, d);
        else callback(null, d);
      } catch (e) {
        callback(e as Error);
      }
      return;
    }
    // The handle is read "in the thread pool": the entries come back in a later turn.
    this.#queue = [];
    setImmediate(() => {
      process.nextTick(() => {
        const waiting = this.#queue!;
        this.#queue = null;
        for (const op of waiting) op();
      });
      let batch: DirEntryInfo[] | null;
      try {
        batch = this.#handle.read(this.#options.bufferSize);
      } catch (e) {
        return callback(e as Error);
      }
      if (batch === null) return callback(null, null);
      try {
        this.#take(this.#path, batch);
        callback(null, this.#next());
      } catch (e) {
        callback(e as Error);
      }
    });
  }

  readSync(): Dirent | null {
    if (this.#closed) throw dirClosed();
    if (this.#queue !== null) throw concurrent();
    if (this.#buffered.length === 0) {
      const batch = this.#handle.read(this.#options.bufferSize);
      if (batch === null) return null;
      this.#take(this.#path, batch);
    }
    return this.#next();
  }

  close(): Promise<void>;
  close(callback: (err: Error | null) => void): void;
  close(callback?: (err: Error | null) => void): Promise<void> | void {
    if (callback === undefined) {
      if (this.#closed) return Promise.reject(dirClosed());
      return new Promise((resolve, reject) => this.close((e) => (e ? reject(e) : resolve())));
    }
    validateFunction(callback, 'callback');
    if (this.#closed) {
      process.nextTick(callback, dirClosed());
      return;
    }
    if (this.#queue !== null) {
      this.#queue.push(() => this.close(callback));
      return;
    }
    this.#closed = true;
    this.#handle.close();
    setImmediate(callback, null);
  }

  closeSync(): void {
    if (this.#closed) throw dirClosed();
    if (this.#queue !== null) throw concurrent();
    this.#closed = true;
    this.#handle.close();
  }

  async *entries(): AsyncGenerator<Dirent> {
    try {
      for (;;) {
        const d = await (this.#read(false) as Promise<Dirent | null>);
        if (d === null) break;
        yield d;
      }
    } finally {
      await this.close();
    }
  }

  declare [Symbol.asyncIterator]: () => AsyncGenerator<Dirent>;
}
Object.defineProperty(Dir.prototype, Symbol.asyncIterator, {
  value: Dir.prototype.entries,
  enumerable: false,
  writable: true,
  configurable: true,
});

/** opendirSync(path, { encoding, bufferSize, recursive }): the handle first, then the options (as Node). */
export function opendirSync(core: Core, path: unknown, options?: unknown): Dir {
  const p = pathArg(path);
  const o = getOptions(options, { encoding: 'utf8' });
  return new Dir(DirHandle.open(core, p), p.shown, o);
}
