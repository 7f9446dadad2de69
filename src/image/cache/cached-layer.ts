/**
 * The open cache on the way through openLayer (src/image/layers.ts): `fromCache` answers a layer
 * from its record; `startCaching` makes an open write one. Rules (besides open-cache.ts's):
 * - A blob is known by its location key (no hashing), else by the digest the manifest names: with
 *   `verify` that digest is checked by hashing the stored bytes (not inflating them), without it
 *   trusted as an uncached open trusts it. OCI-3 mismatches are reported as an uncached open does.
 * - A record is used only when the per-layer limits now are at least those it was indexed under
 *   and the image's totals (entries, uncompressed bytes) stay within theirs; else the layer is
 *   opened from its blob, which reports the limit exactly as always.
 * - OCI-22: a blob read by Range requests (remoteKind 'ranges') is never cached (layers.ts: that
 *   would read it whole); a gzip blob read by one streaming GET ('stream') keeps its gzip index, not its tar: a
 *   later open reads the tar through the index, by ranges of the blob. A .gzi that does not parse
 *   drops the entry (the open then rebuilds it).
 */
import { fstatSync, openSync, closeSync, readFileSync } from 'node:fs';
import { StateError } from '../../core/errors.js';
import { sha256Of, type Compression } from '../../archive/compression.js';
import type { Budget } from '../../archive/limits.js';
import type { Entry } from '../../entry.js';
import { remoteKind, type ByteSource } from '../../source.js';
import { GzipIndexSource, parseGzipIndex, serializeGzipIndex, type GzipIndex } from '../../archive/gzip-index.js';
import type { LayerContext, OpenedLayer, PlannedLayer } from '../layers.js';
import { CHECK_CHUNK, CheckedRegion, ChunkHasher } from './checked-region.js';
import { addPrefix, decodeEntries, encodeEntries, layerLimits, limitsAllow, stripPrefix, type LayerRecord } from './layer-record.js';
import type { OpenCache } from './open-cache.js';

/** The kept tar of a compressed layer, read through its chunk digests; undefined when it is not whole. */
function keptTar(cache: OpenCache, rec: LayerRecord, ctx: LayerContext): ByteSource | undefined {
  const path = cache.dataPath(rec.digest);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  const sums = Buffer.from(rec.chunks ?? '', 'base64');
  if (fstatSync(fd).size !== rec.size || sums.length !== Math.ceil(rec.size / CHECK_CHUNK) * 32) {
    closeSync(fd);
    cache.dropLayer(rec.digest);
    return undefined;
  }
  ctx.res.track(fd);
  return new CheckedRegion(fd, rec.size, sums, (chunk) => {
    cache.dropLayer(rec.digest);
    return new StateError(
      'CORRUPT',
      path,
      `bytes ${chunk * CHECK_CHUNK}… of the cached tar of layer ${rec.digest} do not match the digest recorded with it; the entry was dropped and the next command rebuilds it`,
    );
  });
}

/** The tar of a gzip layer through its kept index; undefined (entry dropped) when the .gzi is missing or corrupt. */
function indexedTar(cache: OpenCache, rec: LayerRecord, pl: PlannedLayer, ctx: LayerContext): ByteSource | undefined {
  const path = cache.indexPath(rec.digest);
  try {
    const tar = new GzipIndexSource(pl.source, parseGzipIndex(readFileSync(path), path), `${ctx.file}: ${pl.path}`);
    if (tar.size === rec.size) return tar;
  } catch {
    /* missing, torn or altered: dropped below */
  }
  cache.dropLayer(rec.digest);
  return undefined;
}

export async function fromCache(
  pl: PlannedLayer,
  expectedDiffId: string | undefined,
  ctx: LayerContext,
  context: string,
  mismatch: (problem: string) => never,
): Promise<(OpenedLayer & { warnings: string[] }) | undefined> {
  const cache = ctx.cache!;
  const budget = ctx.budget!;
  const key = cache.locationKey(pl.source);
  const loc = key === undefined ? undefined : cache.location(key);
  let digest = loc?.digest;
  if (digest === undefined && pl.expectedDigest !== undefined && cache.has(pl.expectedDigest)) {
    digest = ctx.verify ? sha256Of(pl.source, ctx.onRead) : pl.expectedDigest;
  }
  if (digest === undefined) return undefined;
  // OCI-3 at once: the stored bytes (hashed just now, or when their location was recorded) are not the blob named.
  if (ctx.verify && pl.expectedDigest !== undefined && digest !== pl.expectedDigest) mismatch(`blob sha256 is ${digest}, expected ${pl.expectedDigest}`);
  const rec = cache.record<LayerRecord>(digest);
  if (rec === undefined || rec.digest !== digest || rec.compressedSize !== pl.source.size) return undefined;
  const { limits } = budget;
  if (!limitsAllow(rec, limits) || budget.entries + rec.members > limits.maxEntries || budget.bytes + rec.size > limits.maxUncompressedBytes) return undefined;
  if (ctx.verify && expectedDiffId !== undefined && rec.diffId !== expectedDiffId) {
    mismatch(`uncompressed sha256 is ${rec.diffId}, config.rootfs.diff_ids[${ctx.index ?? '?'}] is ${expectedDiffId}`);
  }
  const tar = rec.compression === 'none' ? pl.source : rec.gzi ? indexedTar(cache, rec, pl, ctx) : keptTar(cache, rec, ctx);
  if (tar === undefined) return undefined;
  budget.shared?.addEntries(rec.members);
  budget.shared?.addBytes(rec.size);
  budget.entries += rec.members;
  budget.bytes += rec.size;
  if (key !== undefined && loc === undefined) await cache.placeLocation({ key, digest, diffId: rec.diffId }).catch(() => undefined);
  cache.stats.hits++;
  const prefix = `${ctx.file}: ${context}`;
  return {
    compression: rec.compression,
    digest,
    diffId: rec.diffId,
    compressedSize: rec.compressedSize,
    size: rec.size,
    entries: decodeEntries(rec.entries, tar),
    tar,
    warnings: rec.warnings.map((w) => addPrefix(w, prefix)),
  };
}

export interface Caching {
  /** Where a compressed layer is decompressed to (a scratch file in the cache). */
  spillFd?: number;
  onOutput?: (c: Uint8Array) => void;
  /** Inflate with the gzip index builder: the index is kept instead of the tar. */
  indexGzip?: boolean;
  /** The open failed: the scratch file goes. */
  abandon(): void;
  /** The open succeeded: its data (or index), record and location are written (best effort). */
  finish(opened: OpenedLayer, offsets: Map<Entry, number>, warnings: string[], prefix: string, index?: GzipIndex): Promise<void>;
}

/** Undefined when the cache cannot be written (the layer is opened as without one). */
export function startCaching(cache: OpenCache, pl: PlannedLayer, compression: Compression, budget: Budget): Caching | undefined {
  const indexGzip = remoteKind(pl.source) === 'stream' && compression === 'gzip';
  const entriesBefore = budget.entries;
  const scratch = compression === 'none' || indexGzip ? undefined : cache.openScratch(pl.expectedDigest?.slice(7) ?? 'layer');
  if (compression !== 'none' && !indexGzip && scratch === undefined) return undefined;
  const hasher = scratch ? new ChunkHasher() : undefined;
  return {
    spillFd: scratch?.fd,
    onOutput: hasher && ((c) => hasher.update(c)),
    indexGzip,
    abandon: () => {
      if (scratch) cache.discard(scratch, false);
    },
    async finish(opened, offsets, warnings, prefix, index) {
      const record: LayerRecord = {
        digest: opened.digest,
        diffId: opened.diffId,
        compression: opened.compression,
        compressedSize: opened.compressedSize,
        size: opened.size,
        members: budget.entries - entriesBefore,
        limits: layerLimits(budget.limits),
        chunks: hasher?.digests().toString('base64'),
        gzi: index ? true : undefined,
        warnings: warnings.map((w) => stripPrefix(w, prefix)),
        entries: encodeEntries(opened.entries, offsets),
      };
      try {
        if (scratch) await cache.placeData(scratch, opened.digest);
        if (index) await cache.placeIndex(opened.digest, serializeGzipIndex(index));
        const key = cache.locationKey(pl.source);
        await cache.placeRecord(opened.digest, record, key === undefined ? undefined : { key, digest: opened.digest, diffId: opened.diffId });
      } catch {
        if (scratch) cache.discard(scratch, false);
      }
    },
  };
}
