/**
 * Limits on what one image may make the reader do. Archives come from strangers: without limits a
 * small file can claim (or decompress to) terabytes, millions of members or paths deep enough to
 * overflow a recursion. Every limit is configurable through `LoadOptions.limits` (a partial
 * object: the keys given replace the defaults); exceeding one is `ArchiveError('LIMIT', file, …)`
 * naming the layer, the limit and its option name.
 *
 * | option                 | default     | what is counted                                                     |
 * |------------------------|-------------|---------------------------------------------------------------------|
 * | `maxUncompressedBytes` | 8 GiB       | uncompressed tar bytes of all layers of one image, together; also a |
 * |                        |             | compressed outer archive (docker save | gzip) on its own            |
 * | `maxEntries`           | 2,000,000   | tar members of all layers together (PAX/long-name records excluded);|
 * |                        |             | the outer archive's members on their own (an entry holds ~650 bytes |
 * |                        |             | of memory, bench figure 9: 2,000,000 are about 1.3 GiB)             |
 * | `maxPathLength`        | 4096 bytes  | an entry name or link target, in bytes (Linux PATH_MAX)              |
 * | `maxPathDepth`         | 512         | components of an entry name                                         |
 * | `maxMetaBytes`         | 16 MiB      | one PAX extended header (x, g) or GNU long name/link record (L, K)  |
 * | `maxJsonBytes`         | 64 MiB      | one JSON document: manifest, index, config, oci-layout               |
 * | `maxJsonDepth`         | 512         | nesting of arrays and objects in one JSON document (counted by a     |
 * |                        |             | scan before parsing, so no recursion ever sees a deeper document)   |
 * | `maxZstdWindowBytes`   | 128 MiB     | the window a zstd frame may ask the decoder to allocate (the zstd   |
 * |                        |             | CLI's default; a power of two: other values round down, 1 KiB–2 GiB)|
 *
 * Decompression stops AT the limit: a gzip or zstd bomb is never inflated past it (the spill file
 * holds at most `maxUncompressedBytes`).
 *
 * Not here: symlink hops during lookups (the kernel's MAXSYMLINKS, 40) are `maxSymlinkHops` of a
 * view or a mount table (src/union/walk.ts).
 */
import { ArchiveError } from '../core/errors.js';

export interface Limits {
  maxUncompressedBytes: number;
  maxEntries: number;
  maxPathLength: number;
  maxPathDepth: number;
  maxMetaBytes: number;
  maxJsonBytes: number;
  maxJsonDepth: number;
  maxZstdWindowBytes: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxUncompressedBytes: 8 * 1024 ** 3,
  maxEntries: 2_000_000,
  maxPathLength: 4096,
  maxPathDepth: 512,
  maxMetaBytes: 16 * 1024 * 1024,
  maxJsonBytes: 64 * 1024 * 1024,
  maxJsonDepth: 512,
  maxZstdWindowBytes: 128 * 1024 * 1024,
});

/** The defaults with `given` applied; a value that is not a non-negative integer is a TypeError (a caller bug). */
export function resolveLimits(given?: Partial<Limits>): Limits {
  const out: Limits = { ...DEFAULT_LIMITS };
  if (!given) return out;
  for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof Limits>) {
    const v = given[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(Number.isSafeInteger(v) || v === Infinity) || v < 0) {
      throw new TypeError(`limits.${key} must be a non-negative integer or Infinity, got ${String(v)}`);
    }
    out[key] = v;
  }
  return out;
}

/** 8589934592 → "8 GiB", 1536 → "1.5 KiB", 100 → "100 bytes". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let x = n;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${Number.isInteger(x) ? x : x.toFixed(1)} ${units[u]}`;
}

/**
 * What an image has used of its limits so far: shared by the layers of one load, so the totals
 * hold across layers. A layer opened at once with others (src/image/concurrent.ts) has a Budget
 * of its own, and `shared` is what all of them have used together.
 */
export class Budget {
  bytes = 0;
  entries = 0;
  constructor(
    readonly limits: Limits = { ...DEFAULT_LIMITS },
    readonly shared?: SharedUse,
  ) {}
}

/**
 * Rule: layers opened at once stay, together, within the image's limits, as one at a time they
 * would: a hostile image's four bombs never spill four times the byte limit, or hold four times
 * the entries. A layer whose next bytes or member would take the total past a limit stops with
 * SharedUseFull; that is no verdict on the archive (the layer is opened again one at a time,
 * with the image's own Budget, which gives the real answer).
 */
export class SharedUse {
  bytes: number;
  entries: number;
  constructor(readonly image: Budget) {
    this.bytes = image.bytes;
    this.entries = image.entries;
  }
  /** Counts `bytes` more uncompressed bytes; throws SharedUseFull past the limit. */
  addBytes(bytes: number): void {
    if (this.bytes + bytes > this.image.limits.maxUncompressedBytes) throw new SharedUseFull();
    this.bytes += bytes;
  }
  /** Counts `entries` more members; throws SharedUseFull past the limit. */
  addEntries(entries: number): void {
    if (this.entries + entries > this.image.limits.maxEntries) throw new SharedUseFull();
    this.entries += entries;
  }
}

/** A layer opened at once with others would take their total past a limit (see SharedUse). */
export class SharedUseFull extends Error {
  override readonly name = 'SharedUseFull';
  constructor() {
    super('the layers opened at once would together pass a limit');
  }
}

export function limitError(file: string, context: string, problem: string, option: keyof Limits): ArchiveError {
  return new ArchiveError('LIMIT', file, `${context}${problem} (limits.${option})`);
}
