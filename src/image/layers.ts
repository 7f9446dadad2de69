/**
 * From "the manifest says layer i is this blob" to a verified, indexed layer.
 * Shared by every image format and by plain layer tarballs.
 */
import type { Entry } from '../entry.js';
import { ArchiveError } from '../core/errors.js';
import { remoteKind, type ByteSource } from '../source.js';
import { openBlob, sniffCompression, type Compression } from '../archive/compression.js';
import { readLayer } from '../layer/read.js';
import type { Budget } from '../archive/limits.js';
import type { OpenCache } from './cache/open-cache.js';
import { fromCache, startCaching } from './cache/cached-layer.js';
import type { HistoryEntry, ImageConfig } from './config.js';
import type { PreparedLayer, Resources } from './store.js';
import type { LayoutFile } from './linked-layout.js';

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
  /** Entries read without a pass over the blob (store.ts PreparedLayer); used when not verifying. */
  prepared?: PreparedLayer;
}

/** What a format reader hands to the loader. */
export interface ImagePlan {
  tags: string[];
  config: ImageConfig;
  configDigest?: string;
  layers: PlannedLayer[];
  /** The image's own files as the state stores it (linked-layout.ts): what was read, nothing else. */
  files?: LayoutFile[];
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
  /** Where what opening learns is kept by layer digest (src/image/cache/open-cache.ts); none: nothing kept. */
  cache?: OpenCache;
  /** The layer's position, for messages. */
  index?: number;
  /** Aborted when the open's result is no longer wanted (src/image/concurrent.ts). */
  signal?: AbortSignal;
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
export async function openLayer(pl: PlannedLayer, index: number, count: number, expectedDiffId: string | undefined, history: HistoryEntry | undefined, ctx: LayerContext): Promise<LayerData> {
  const { file } = ctx;
  const context = pl.path === file ? `layer ${index + 1}/${count}: ` : `layer ${index + 1}/${count} (${pl.path}): `;
  const mismatch = (problem: string): never => {
    throw new ArchiveError('DIGEST_MISMATCH', file, `${context}${problem}`);
  };
  if (ctx.verify && pl.expectedSize !== undefined && pl.expectedSize !== pl.source.size) {
    mismatch(`blob is ${pl.source.size} bytes, the descriptor says ${pl.expectedSize}`);
  }
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    ctx.onWarning(m);
  };
  const prepared = pl.prepared && !ctx.verify ? openPrepared(pl, pl.prepared, expectedDiffId, ctx, context, warn) : undefined;
  const cached = !prepared && ctx.cache && ctx.budget ? await fromCache(pl, expectedDiffId, { ...ctx, index }, context, mismatch) : undefined;
  if (cached) for (const w of cached.warnings) warn(w);
  // A prepared layer its own reader declined is read whole, and then verified whatever `verify` says;
  // so is a remote blob read whole by one streaming GET (OCI-22: every byte passes, so it is checked).
  const whole = (pl.prepared || remoteKind(pl.source) === 'stream') && !ctx.verify ? { ...ctx, verify: true } : ctx;
  const opened = prepared ?? cached ?? (await openUncached(pl, index, expectedDiffId, whole, context, mismatch, warn, warnings));
  const claimed = pl.mediaType === undefined ? undefined : claimedCompression(pl.mediaType);
  if (claimed !== undefined && claimed !== opened.compression) {
    warn(`${file}: ${context}media type ${pl.mediaType} says ${claimed}, the content is ${opened.compression}; read as ${opened.compression} (OCI-2)`);
  }
  const layer: LayerData = {
    index,
    digest: opened.digest,
    diffId: opened.diffId,
    mediaType: pl.mediaType ?? MEDIA_TYPE[opened.compression],
    compressedSize: opened.compressedSize,
    size: opened.size,
    entries: opened.entries,
    tar: opened.tar,
  };
  if (history) layer.history = history;
  if (warnings.length) layer.warnings = warnings;
  return layer;
}

/** What opening a layer found, from its blob or from the cache. */
export interface OpenedLayer {
  compression: Compression;
  digest: string;
  diffId: string;
  compressedSize: number;
  size: number;
  entries: Entry[];
  tar: ByteSource;
}

/**
 * A prepared layer (a zstd:chunked TOC): its entries as its own reader gives them. Rule: the
 * digests are the manifest's and the config's, taken as given (no pass over the blob checks them);
 * the caller reads this way only without `verify`, and says so (README, lazy.ts).
 */
function openPrepared(pl: PlannedLayer, prepared: PreparedLayer, expectedDiffId: string | undefined, ctx: LayerContext, context: string, warn: (m: string) => void): OpenedLayer | undefined {
  if (pl.expectedDigest === undefined || expectedDiffId === undefined) {
    throw new ArchiveError('BAD_MANIFEST', ctx.file, `${context}a layer read through its table of contents needs its digest and diff_id from the manifest and config`);
  }
  const read = prepared.open({ file: ctx.file, context, onWarning: warn, budget: ctx.budget });
  if (!read) return undefined;
  const { entries, size } = read;
  return { compression: 'zstd', digest: pl.expectedDigest, diffId: expectedDiffId, compressedSize: pl.source.size, size, entries, tar: prepared.tar };
}

/**
 * Opens the blob (decompress, hash, check), then indexes its tar. With a cache, the open is hashed
 * whatever `verify` says (the cache records only what was verified) and is written to the cache.
 */
async function openUncached(
  pl: PlannedLayer,
  index: number,
  expectedDiffId: string | undefined,
  ctx: LayerContext,
  context: string,
  mismatch: (problem: string) => never,
  warn: (m: string) => void,
  warnings: string[],
): Promise<OpenedLayer> {
  const { file } = ctx;
  // A blob read by Range requests is never cached: that would read it whole (OCI-22), and sniffing costs a request.
  const caching = ctx.cache && ctx.budget && remoteKind(pl.source) !== 'ranges' ? startCaching(ctx.cache, pl, sniffCompression(pl.source, file, context), ctx.budget) : undefined;
  const hash = caching !== undefined || ctx.verify || pl.expectedDigest === undefined || expectedDiffId === undefined;
  try {
    const blob = await openBlob(pl.source, {
      file,
      context,
      hash,
      onSpill: (fd) => ctx.res.track(fd),
      onRead: ctx.onRead,
      budget: ctx.budget,
      spillFd: caching?.spillFd,
      onOutput: caching?.onOutput,
      signal: ctx.signal,
      indexGzip: caching?.indexGzip,
    });
    if (ctx.verify) {
      if (pl.expectedDigest !== undefined && blob.digest !== pl.expectedDigest) {
        mismatch(`blob sha256 is ${blob.digest}, expected ${pl.expectedDigest}`);
      }
      if (expectedDiffId !== undefined && blob.diffId !== expectedDiffId) {
        mismatch(`uncompressed sha256 is ${blob.diffId}, config.rootfs.diff_ids[${index}] is ${expectedDiffId}`);
      }
    }
    const dataOffsets = caching ? new Map<Entry, number>() : undefined;
    const entries = readLayer(blob.tar, { file, context, onWarning: warn, budget: ctx.budget, dataOffsets });
    const opened: OpenedLayer = {
      compression: blob.compression,
      digest: blob.digest ?? pl.expectedDigest!,
      diffId: blob.diffId ?? expectedDiffId!,
      compressedSize: blob.compressedSize,
      size: blob.size,
      entries,
      tar: blob.tar,
    };
    // The warnings so far are the tar's own (kept with the record); the media type's is the manifest's.
    await caching?.finish(opened, dataOffsets!, warnings, `${file}: ${context}`, blob.index);
    return opened;
  } catch (e) {
    caching?.abandon();
    throw e;
  }
}
