/**
 * Telling the image format from CONTENT, never from the file name:
 * - a directory with `oci-layout` or `index.json` → OCI layout; with `manifest.json` → an
 *   extracted docker save;
 * - a tar (possibly gzip/zstd-compressed, e.g. `docker save | gzip`) holding `manifest.json` →
 *   docker-archive (DA-1: manifest.json wins, also in Docker 25+ archives that hold an OCI layout
 *   too); holding `index.json` (and `oci-layout`) → oci-archive;
 * - anything else → NOT_AN_IMAGE.
 * The outer tar is indexed once by header seeks; blobs are windows into it.
 */
import { openSync, fstatSync } from 'node:fs';
import { ArchiveError } from '../core/errors.js';
import { FileRegion } from '../source.js';
import { detectCompression, openBlob, readHead } from '../archive/compression.js';
import { DirStore, TarStore, type BlobStore, type Resources } from './store.js';
import { Budget, type Limits } from '../archive/limits.js';

export type ImageFormat = 'docker-archive' | 'oci-archive' | 'oci-layout';

export interface DetectedImage {
  format: ImageFormat;
  store: BlobStore;
}

export async function detectImage(path: string, res: Resources, onWarning: (m: string) => void, limits?: Limits): Promise<DetectedImage> {
  let fd: number;
  try {
    fd = res.track(openSync(path, 'r'));
  } catch (e) {
    throw new ArchiveError('NOT_AN_IMAGE', path, `cannot be opened: ${(e as Error).message}`);
  }
  const st = fstatSync(fd);
  if (st.isDirectory()) {
    const store = new DirStore(path, res, limits);
    if (store.has('oci-layout') || store.has('index.json')) return { format: 'oci-layout', store };
    if (store.has('manifest.json')) return { format: 'docker-archive', store };
    throw new ArchiveError('NOT_AN_IMAGE', path, 'expected a directory holding oci-layout and index.json (OCI layout) or manifest.json (docker save), found neither');
  }
  if (!st.isFile()) throw new ArchiveError('NOT_AN_IMAGE', path, 'is neither a file nor a directory');

  let outer = new FileRegion(fd, 0, st.size);
  const head = readHead(outer);
  const compression = detectCompression(head, st.size);
  if (compression === undefined) {
    const hex = head.subarray(0, 8).toString('hex').replace(/(..)/g, '$1 ').trim();
    throw new ArchiveError('NOT_AN_IMAGE', path, `expected a tar archive (optionally gzip or zstd compressed) or a directory, found first bytes ${hex || '(empty)'}`);
  }
  if (compression !== 'none') {
    const opened = await openBlob(outer, { file: path, context: 'outer archive: ', hash: false, onSpill: (f) => res.track(f), budget: new Budget(limits) });
    outer = opened.tar as FileRegion;
  }
  const store = new TarStore(path, outer, onWarning, new Budget(limits));
  if (store.has('manifest.json')) return { format: 'docker-archive', store };
  if (store.has('index.json')) return { format: 'oci-archive', store };
  const names = store.names();
  const hint =
    names.length === 0
      ? 'the tar is empty'
      : `found ${names.length} members such as ${names
          .slice(0, 3)
          .map((n) => JSON.stringify(n))
          .join(', ')}; a single layer tarball is read with loadLayers()`;
  throw new ArchiveError('NOT_AN_IMAGE', path, `expected a tar holding manifest.json (docker save) or oci-layout and index.json (OCI layout); ${hint}`);
}
