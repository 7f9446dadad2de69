/**
 * From "the manifest says layer i is this blob" to a verified, indexed layer.
 * Shared by every image format and by plain layer tarballs.
 */
import type { Entry } from '../entry.js';
import { ArchiveError } from '../errors.js';
import type { ByteSource } from '../source.js';
import { openBlob, type Compression } from '../archive/compression.js';
import { readLayer } from '../layer/read.js';
import type { Budget } from '../archive/limits.js';
import type { HistoryEntry, ImageConfig } from './config.js';
import type { Resources } from './store.js';

/** One layer as a format reader found it, before it is opened. */
export interface PlannedLayer {
  /** Where the blob is, for messages (archive member or file path). */
  path: string;
  source: ByteSource;
  /** The digest the blob must have: descriptor digest, or the digest its path names. */
  expectedDigest?: string;
  /** The size the descriptor gives. */
  expectedSize?: number;
  mediaType?: string;
}

/** What a format reader hands to the loader. */
export interface ImagePlan {
  tags: string[];
  config: ImageConfig;
  configDigest?: string;
  layers: PlannedLayer[];
}

export interface LayerData {
  /** Position in the stack, 0 = base (OCI-1). */
  index: number;
  /** sha256 of the blob as stored. */
  digest: string;
  /** sha256 of the uncompressed tar (OCI-3). */
  diffId: string;
  mediaType: string;
  compressedSize: number;
  size: number;
  entries: Entry[];
  history?: HistoryEntry;
  warnings?: string[];
  /** The uncompressed layer tar (the blob itself, or the spill file), as indexed. */
  tar: ByteSource;
}

export interface LayerContext {
  file: string;
  verify: boolean;
  res: Resources;
  onWarning: (message: string) => void;
  /** Stored bytes read so far grow by `bytes` (hashing or decompressing): for progress bars. */
  onRead?: (bytes: number) => void;
  /** Limits and what the image has used of them (shared by its layers). */
  budget?: Budget;
}

const MEDIA_TYPE: Record<Compression, string> = {
  none: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};

function claimedCompression(mediaType: string): Compression | undefined {
  if (/gzip$/.test(mediaType)) return 'gzip';
  if (/zstd$/.test(mediaType)) return 'zstd';
  if (/\.tar$|diff\.tar$/.test(mediaType)) return 'none';
  return undefined;
}

/**
 * Opens layer `index` of `count`. OCI-3/DA-2: with `verify`, the stored bytes must hash to the
 * expected digest and the uncompressed bytes to `expectedDiffId`; a difference is DIGEST_MISMATCH
 * naming the layer. Without `verify`, hashing is skipped where both digests are already known.
 */
export async function openLayer(
  pl: PlannedLayer, index: number, count: number, expectedDiffId: string | undefined, history: HistoryEntry | undefined, ctx: LayerContext,
): Promise<LayerData> {
  const { file } = ctx;
  const context = pl.path === file ? `layer ${index + 1}/${count}: ` : `layer ${index + 1}/${count} (${pl.path}): `;
  const mismatch = (problem: string): never => {
    throw new ArchiveError('DIGEST_MISMATCH', file, `${context}${problem}`);
  };
  if (ctx.verify && pl.expectedSize !== undefined && pl.expectedSize !== pl.source.size) {
    mismatch(`blob is ${pl.source.size} bytes, the descriptor says ${pl.expectedSize}`);
  }
  const hash = ctx.verify || pl.expectedDigest === undefined || expectedDiffId === undefined;
  const blob = await openBlob(pl.source, { file, context, hash, onSpill: (fd) => ctx.res.track(fd), onRead: ctx.onRead, budget: ctx.budget });
  if (ctx.verify) {
    if (pl.expectedDigest !== undefined && blob.digest !== pl.expectedDigest) {
      mismatch(`blob sha256 is ${blob.digest}, expected ${pl.expectedDigest}`);
    }
    if (expectedDiffId !== undefined && blob.diffId !== expectedDiffId) {
      mismatch(`uncompressed sha256 is ${blob.diffId}, config.rootfs.diff_ids[${index}] is ${expectedDiffId}`);
    }
  }
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    ctx.onWarning(m);
  };
  const claimed = pl.mediaType === undefined ? undefined : claimedCompression(pl.mediaType);
  if (claimed !== undefined && claimed !== blob.compression) {
    warn(`${file}: ${context}media type ${pl.mediaType} says ${claimed}, the content is ${blob.compression}; read as ${blob.compression} (OCI-2)`);
  }
  const entries = readLayer(blob.tar, { file, context, onWarning: warn, budget: ctx.budget });
  const layer: LayerData = {
    index,
    digest: blob.digest ?? pl.expectedDigest!,
    diffId: blob.diffId ?? expectedDiffId!,
    mediaType: pl.mediaType ?? MEDIA_TYPE[blob.compression],
    compressedSize: blob.compressedSize,
    size: blob.size,
    entries,
    tar: blob.tar,
  };
  if (history) layer.history = history;
  if (warnings.length) layer.warnings = warnings;
  return layer;
}
