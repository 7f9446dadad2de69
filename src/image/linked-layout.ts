/**
 * An image directory whose blobs are hard links to content-addressed blobs: every stored image
 * (an OCI layout, or a docker save's files for a loaded docker-archive) and the short-lived layout
 * a docker:// view is opened from. Hard links, not copies and not symlinks: no byte is stored
 * twice, and the directory stays a plain one that the image readers open without leaving it (they
 * refuse links out of the directory; a symlink inside it, as a docker save has for a legacy
 * `<id>/layer.tar`, stays inside).
 */
import { link, mkdir, open, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StateError } from '../core/errors.js';
import { fsyncDir } from '../core/atomic.js';
import type { ByteSource } from '../source.js';

/** A layout's index.json and the digests of its blobs (each must exist where `blobPath` says). */
export interface BlobLayout {
  index: Uint8Array;
  blobs: string[];
}

/**
 * One file of a stored image directory, as a format reader describes the image it read
 * (src/image/oci-layout.ts, docker-archive.ts): written as these bytes; or a blob, put in the blob
 * store (checked against `digest` when it is known) and hard-linked here; or a symlink
 * to another file of the directory.
 */
export type LayoutFile =
  | { path: string; bytes: Uint8Array }
  /** `layer`: the blob of that layer, whose digest is known once the layer is opened (loadStore fills it in). */
  | { path: string; blob: ByteSource; digest?: string; layer?: number }
  | { path: string; symlink: string };

/**
 * Writes the directory `dir` (which must not exist): blobs are linked from `blobPath(digest)`,
 * where `digests` says each one's digest is (the store put them there), then everything fsynced.
 */
export async function writeLayout(dir: string, blobPath: (digest: string) => string, files: LayoutFile[], digests: Map<LayoutFile, string>): Promise<void> {
  const dirs = new Set<string>([dir]);
  await mkdir(dir, { recursive: true });
  for (const f of files) {
    const to = join(dir, f.path);
    if (!dirs.has(dirname(to))) {
      await mkdir(dirname(to), { recursive: true });
      for (let d = dirname(to); d.startsWith(dir) && !dirs.has(d); d = dirname(d)) dirs.add(d);
    }
    if ('bytes' in f) await writeSynced(to, f.bytes);
    else if ('symlink' in f) await symlink(f.symlink, to);
    else {
      const digest = digests.get(f) ?? f.digest!;
      const from = blobPath(digest);
      await link(from, to).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') throw new StateError('BAD_INPUT', from, `blob ${digest} is not in the store`);
        throw e;
      });
    }
  }
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) await fsyncDir(d);
}

/** A one-image OCI layout over blobs already in the store (a pulled image, a docker:// view). */
export async function writeLinkedLayout(dir: string, blobPath: (digest: string) => string, layout: BlobLayout): Promise<void> {
  const files: LayoutFile[] = [
    { path: 'oci-layout', bytes: Buffer.from('{"imageLayoutVersion":"1.0.0"}\n') },
    { path: 'index.json', bytes: layout.index },
  ];
  const digests = new Map<LayoutFile, string>();
  for (const d of new Set(layout.blobs)) {
    const f: LayoutFile = { path: `blobs/sha256/${d.slice(7)}`, blob: EMPTY, digest: d };
    files.push(f);
    digests.set(f, d);
  }
  await writeLayout(dir, blobPath, files, digests);
}

/** The source of a blob already in the store: never read (writeLayout only links it). */
const EMPTY: ByteSource = { size: 0, read: () => 0 };

async function writeSynced(path: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(path, 'wx', 0o644);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
