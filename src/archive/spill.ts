/**
 * The spill file: where a compressed layer's tar is decompressed to, so that its members can be
 * read at random afterwards without holding the layer in memory.
 */
import { randomBytes } from 'node:crypto';
import { constants, openSync, unlinkSync, write, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GENERIC_FLAGS = new Set(['x64', 'ia32', 'arm', 'arm64', 'riscv64', 'loong64', 's390x', 'ppc64']);

/**
 * An anonymous temporary file: O_TMPFILE on Linux (never has a name), else created and unlinked at
 * once. Either way only the descriptor keeps it alive, so nothing is left on disk even on a crash.
 */
export function openSpill(): number {
  const dir = tmpdir();
  // O_TMPFILE is not exported by node:fs; its value is the asm-generic one on these architectures.
  if (process.platform === 'linux' && GENERIC_FLAGS.has(process.arch)) {
    const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;
    try {
      return openSync(dir, O_TMPFILE | constants.O_RDWR, 0o600);
    } catch {
      /* filesystem without O_TMPFILE: fall back */
    }
  }
  const path = join(dir, `layerfs-spill-${process.pid}-${randomBytes(8).toString('hex')}`);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  unlinkSync(path);
  return fd;
}

/**
 * The most one synchronous write is given. Measured (Linux 6.18, ext4, 2 vCPUs): writing zlib's
 * output, a freshly allocated 1 MiB buffer per chunk, 1 MiB at a time cost ~3× the system time of
 * 256 KiB pieces (330 against 105 ms for 528 MB; up to 600 ms), and the gzip open ~20% more;
 * from reused buffers (zstd's) the size made no difference.
 */
const WRITE_PIECE = 256 * 1024;

/** pwrite of all of `c` at `pos` on the libuv threadpool. */
function writeAll(fd: number, c: Uint8Array, pos: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      write(fd, c, done, c.length - done, pos + done, (err, n) => {
        if (err) reject(err);
        else if (n === 0) reject(new Error(`spill file: write of ${c.length - done} bytes wrote nothing`));
        else if (done + n < c.length) step(done + n);
        else resolve();
      });
    };
    step(0);
  });
}

/**
 * Appends to the spill file, each write at its own offset. `write` hands a buffer to the libuv
 * threadpool and returns at once, so that decoding on this thread (libzstd) overlaps writing
 * (~100 ms of page-cache copying for a 528 MB layer); those writes run one at a time, in order,
 * and `drain` bounds how many wait. `writeSync` is for callers whose decoder runs elsewhere (zlib,
 * on the threadpool) or that cannot wait (fzstd's callback).
 */
export class SpillWriter {
  /** Bytes handed over so far: the file's length once every write has landed. */
  size = 0;
  /** The unfinished writes, oldest first; each settles after the ones before it. */
  private readonly queue: Promise<void>[] = [];
  private tail: Promise<void> = Promise.resolve();
  /** The first write that failed: every later call rethrows it. */
  private failure: { error: unknown } | undefined;

  constructor(readonly fd: number) {}

  /** Writes `c` at the end of the file in the background; `c` must stay unchanged until `drain` says it is written. */
  write(c: Uint8Array): void {
    this.check();
    const pos = this.size;
    this.size += c.length;
    // One write at a time: a second concurrent pwrite on the same file would only wait for the
    // inode lock, holding another threadpool thread.
    this.tail = this.tail
      .then(() => (this.failure ? undefined : writeAll(this.fd, c, pos)))
      .catch((error: unknown) => {
        this.failure ??= { error };
      });
    this.queue.push(this.tail);
  }

  /** Writes `c` at the end of the file before returning, WRITE_PIECE at a time (for callers that reuse `c` at once). */
  writeSync(c: Uint8Array): void {
    this.check();
    let done = 0;
    try {
      while (done < c.length) done += writeSync(this.fd, c, done, Math.min(WRITE_PIECE, c.length - done), this.size + done);
    } catch (error) {
      this.failure ??= { error };
      throw error;
    }
    this.size += c.length;
  }

  /**
   * Undefined when at most `max` writes are unfinished, else a promise that settles once that is
   * so (the oldest first). Either way a failed write's error is thrown.
   */
  drain(max: number): Promise<void> | undefined {
    if (this.queue.length <= max) {
      this.check();
      return undefined;
    }
    return this.wait(max);
  }

  /** Waits for every write, failed or not, so that the descriptor can be closed safely; never throws. */
  async settle(): Promise<void> {
    while (this.queue.length) await this.queue.shift();
  }

  /** The first write error, if any (after `settle`), to tell a disk fault from bad data. */
  get error(): unknown {
    return this.failure?.error;
  }

  private async wait(max: number): Promise<void> {
    while (this.queue.length > max) await this.queue.shift();
    this.check();
  }

  private check(): void {
    if (this.failure) throw this.failure.error;
  }
}
