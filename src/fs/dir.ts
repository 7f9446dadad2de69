/**
 * fs.Dir (opendir): entries one at a time, by readSync(), read(cb) or read() (a promise), or
 * `for await`. The directory is listed when opened (the core has no directory streams), so names
 * created afterwards are not seen and removed ones still are; `recursive` lists a subdirectory
 * when its entry is read. Errors of the listing carry syscall 'opendir'.
 */
import { posix } from 'node:path';
import { FsError } from '../errors.js';
import { nodeError, outOfRange, validateFunction, validateUint32 } from './args.js';
import type { Core } from './core.js';
import { Dirent } from './dirent.js';
import { encodeName, getOptions } from './options.js';
import { onPaths, pathArg, toAbs, type PathArg } from './paths.js';

function dirClosed(): Error {
  return nodeError(Error, 'ERR_DIR_CLOSED', 'Directory handle was closed');
}

function list(core: Core, p: PathArg, encoding: unknown): Dirent[] {
  try {
    return onPaths('opendir', p, undefined, () => core.readdir(p.abs))
      .map((e) => new Dirent(encodeName(e.name, encoding), e.type, p.shown));
  } catch (e) {
    throw e instanceof FsError && e.syscall === 'scandir' ? new FsError(e.code, 'opendir', e.path, e.dest) : e;
  }
}

export class Dir {
  #core: Core;
  #path: string;
  #entries: Dirent[];
  #closed = false;
  #encoding: unknown;
  #recursive: boolean;

  constructor(core: Core, path: PathArg, options: Record<string, unknown>) {
    this.#core = core;
    this.#path = path.shown;
    this.#encoding = options.encoding;
    this.#recursive = Boolean(options.recursive);
    this.#entries = list(core, path, options.encoding);
  }

  get path(): string {
    return this.#path;
  }

  readSync(): Dirent | null {
    if (this.#closed) throw dirClosed();
    const d = this.#entries.shift();
    if (!d) return null;
    if (this.#recursive && d.isDirectory()) {
      const sub = posix.join(d.parentPath, String(d.name));
      this.#entries.push(...list(this.#core, { abs: toAbs(sub), shown: sub }, this.#encoding));
    }
    return d;
  }

  read(): Promise<Dirent | null>;
  read(callback: (err: Error | null, dirent?: Dirent | null) => void): void;
  read(callback?: (err: Error | null, dirent?: Dirent | null) => void): Promise<Dirent | null> | void {
    if (this.#closed) throw dirClosed();
    if (callback === undefined) return new Promise((resolve, reject) => this.read((e, d) => (e ? reject(e) : resolve(d ?? null))));
    validateFunction(callback, 'callback');
    try {
      const d = this.readSync();
      process.nextTick(callback, null, d);
    } catch (e) {
      process.nextTick(callback, e as Error);
    }
  }

  closeSync(): void {
    if (this.#closed) throw dirClosed();
    this.#closed = true;
    this.#entries = [];
  }

  close(): Promise<void>;
  close(callback: (err: Error | null) => void): void;
  close(callback?: (err: Error | null) => void): Promise<void> | void {
    if (callback === undefined) {
      if (this.#closed) return Promise.reject(dirClosed());
      this.closeSync();
      return Promise.resolve();
    }
    validateFunction(callback, 'callback');
    if (this.#closed) {
      process.nextTick(callback, dirClosed());
      return;
    }
    this.closeSync();
    process.nextTick(callback, null);
  }

  async *entries(): AsyncGenerator<Dirent> {
    try {
      for (let d = this.readSync(); d; d = this.readSync()) yield d;
    } finally {
      if (!this.#closed) this.closeSync();
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<Dirent> {
    return this.entries();
  }
}

/** opendirSync(path, { encoding, bufferSize, recursive }). */
export function opendirSync(core: Core, path: unknown, options?: unknown): Dir {
  const p = pathArg(path);
  const o = { bufferSize: 32, ...getOptions(options, { encoding: 'utf8' }) };
  validateUint32(o.bufferSize, 'options.bufferSize');
  if (o.bufferSize === 0) throw outOfRange('options.bufferSize', '>= 1 && <= 4294967295', 0);
  return new Dir(core, p, o);
}
