/**
 * An OCI layout directory whose blobs are hard links to content-addressed blobs (a pulled image in
 * the state, or the short-lived layout a docker:// view is opened from). Hard links, not copies
 * and not symlinks: no byte is stored twice, and the layout stays a plain directory that the
 * layout reader opens without leaving it (it refuses links out of the directory).
 */
import { link, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StateError } from '../core/errors.js';
import { fsyncDir, writeFileAtomic } from '../core/atomic.js';

/** A layout's index.json and the digests of its blobs (each must exist where `blobPath` says). */
export interface BlobLayout {
  index: Uint8Array;
  blobs: string[];
}

export async function writeLinkedLayout(dir: string, blobPath: (digest: string) => string, layout: BlobLayout): Promise<void> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  for (const digest of new Set(layout.blobs)) {
    const from = blobPath(digest);
    await link(from, join(blobs, digest.slice(7))).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') throw new StateError('BAD_INPUT', from, `blob ${digest} is not in the store`);
      throw e;
    });
  }
  await writeFileAtomic(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}\n');
  await writeFileAtomic(join(dir, 'index.json'), layout.index);
  await fsyncDir(blobs);
  await fsyncDir(join(dir, 'blobs'));
  await fsyncDir(dir);
}
