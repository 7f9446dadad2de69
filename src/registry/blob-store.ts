/**
 * The content-addressed blobs of a state directory: `<home>/blobs/sha256/<hex>`, shared by every
 * stored image, loaded, pulled or committed (each image's layout hard-links them,
 * src/engine/state.ts), and by the short-lived layouts of docker:// views.
 *
 * Rules:
 * - a blob appears under its digest only whole and verified: a download is written as
 *   `<home>/blobs/.partial-<hex>`, a blob copied from a local archive (put) as a `.tmp-*` scratch
 *   file, hashed while it is written, fsynced, then put in place in one step, so no kill leaves a
 *   torn blob under a digest;
 * - a partial file is kept after a failed or killed download, and the next download of the same
 *   digest continues from its end (its bytes are hashed again first); a dead writer's `.tmp-*`
 *   is deleted by the next open (atomic.ts cleanLeftovers);
 * - blobs are never rewritten, so the images that link one never see it change: put links its
 *   scratch file in (link(2) never replaces a name) and keeps the blob already there;
 * - a blob's references are its hard links: a blob whose link count is 1 is used by no image
 *   (collect removes those, under the state lock; pulls and views link what they fetched soon
 *   after, see collect).
 */
import { createHash } from 'node:crypto';
import { link, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ArchiveError } from '../core/errors.js';
import { cleanLeftovers, fsyncDir, scratchPath } from '../core/atomic.js';
import type { ByteSource } from '../source.js';

/** Points in putting a blob, for the crash tests (a child is killed at one of them). */
export type BlobStep = 'blob-synced' | 'blob-placed';

const PIECE = 1 << 20;

export class BlobStore {
  readonly root: string;
  readonly dir: string;
  /** Called after each step of putting a blob (tests only). */
  onStep?: (step: BlobStep, digest: string) => void;
  private constructor(home: string) {
    this.root = join(home, 'blobs');
    this.dir = join(this.root, 'sha256');
  }

  static async open(home: string): Promise<BlobStore> {
    const store = new BlobStore(home);
    await mkdir(store.dir, { recursive: true });
    await cleanLeftovers(store.root);
    return store;
  }

  path(digest: string): string {
    return join(this.dir, hexOf(digest));
  }

  partial(digest: string): string {
    return join(this.root, `.partial-${hexOf(digest)}`);
  }

  async has(digest: string, size?: number): Promise<boolean> {
    const st = await stat(this.path(digest)).catch(() => undefined);
    return st?.isFile() === true && (size === undefined || st.size === size);
  }

  /** Renames a verified, fsynced partial into place under its digest. */
  async commit(digest: string): Promise<void> {
    await rename(this.partial(digest), this.path(digest));
    await fsyncDir(this.dir);
  }

  /**
   * Puts the bytes of `src` in the store and returns their digest. They are copied into a scratch
   * file, hashed as they are copied and fsynced; when `expected` is given they must hash to it
   * (DIGEST_MISMATCH naming `file` and `what`, nothing stored). A blob already stored under the
   * digest is kept as it is (with `expected`, an existing blob of the same size is not read at all:
   * the caller has verified the source). `placed` says whether this call added the blob.
   */
  async put(src: ByteSource, opts: { expected?: string; file: string; what: string }): Promise<{ digest: string; placed: boolean }> {
    if (opts.expected !== undefined && (await this.has(opts.expected, src.size))) return { digest: opts.expected, placed: false };
    const tmp = scratchPath('tmp', join(this.root, 'blob'));
    try {
      const hash = createHash('sha256');
      const fh = await open(tmp, 'wx', 0o644);
      try {
        const buf = Buffer.allocUnsafe(Math.min(PIECE, Math.max(1, src.size)));
        for (let pos = 0; pos < src.size; ) {
          const n = src.read(buf, 0, Math.min(buf.length, src.size - pos), pos);
          if (n <= 0) throw new ArchiveError('TRUNCATED', opts.file, `${opts.what}: short read at byte ${pos} of ${src.size}`);
          hash.update(buf.subarray(0, n));
          for (let done = 0; done < n; ) done += (await fh.write(buf, done, n - done, pos + done)).bytesWritten;
          pos += n;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      const digest = `sha256:${hash.digest('hex')}`;
      if (opts.expected !== undefined && digest !== opts.expected) {
        throw new ArchiveError('DIGEST_MISMATCH', opts.file, `${opts.what}: sha256 is ${digest}, expected ${opts.expected}; nothing stored`);
      }
      this.onStep?.('blob-synced', digest);
      const placed = await link(tmp, this.path(digest)).then(
        () => true,
        (e: NodeJS.ErrnoException) => {
          if (e.code === 'EEXIST') return false;
          throw e;
        },
      );
      if (placed) await fsyncDir(this.dir);
      this.onStep?.('blob-placed', digest);
      return { digest, placed };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * Puts the file at `path`, which this process wrote and hashed as `digest` while writing it (a
   * commit's new layer), in the store under that digest without copying it: fsynced, then linked
   * in (a blob already there is kept). The caller removes `path`.
   */
  async adopt(path: string, digest: string): Promise<void> {
    const fh = await open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await link(path, this.path(digest)).then(
      () => fsyncDir(this.dir),
      (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      },
    );
  }

  /**
   * Removes the blobs no image links (link count 1: the store's own name), of those `only` names
   * by inode (`dev:ino`), or all of them; returns how many and their bytes. Run it under the state
   * lock, where images are linked (State.putImage). A pull or a docker:// view fetches its blobs
   * before it takes the lock to link them: a collect of every blob (system prune) run in that
   * moment removes them, and that pull fails naming the blob (pulling again fetches it).
   */
  async collect(only?: Set<string>): Promise<{ count: number; bytes: number }> {
    let count = 0;
    let bytes = 0;
    const names = await readdir(this.dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [];
      throw e;
    });
    for (const name of names) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const path = join(this.dir, name);
      const st = await stat(path).catch(() => undefined);
      if (st === undefined || !st.isFile() || st.nlink !== 1) continue;
      if (only !== undefined && !only.has(`${st.dev}:${st.ino}`)) continue;
      await unlink(path);
      count++;
      bytes += st.size;
    }
    if (count > 0) await fsyncDir(this.dir);
    return { count, bytes };
  }
}

function hexOf(digest: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new TypeError(`not a sha256 digest: ${digest}`);
  return m[1]!;
}
