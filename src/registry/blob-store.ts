/**
 * The content-addressed blobs of a state directory: `<home>/blobs/sha256/<hex>`, shared by every
 * pulled image (each image's OCI layout hard-links them, src/engine/state.ts).
 *
 * Rules:
 * - a blob appears under its digest only whole and verified: it is written as
 *   `<home>/blobs/.partial-<hex>`, hashed, fsynced, then renamed in (atomic), so no kill leaves a
 *   torn blob under a digest;
 * - a partial file is kept after a failed or killed download, and the next download of the same
 *   digest continues from its end (its bytes are hashed again first);
 * - blobs are never rewritten, so the images that link one never see it change.
 */
import { mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanLeftovers, fsyncDir } from '../core/atomic.js';

export class BlobStore {
  readonly root: string;
  readonly dir: string;
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
}

function hexOf(digest: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new TypeError(`not a sha256 digest: ${digest}`);
  return m[1]!;
}
