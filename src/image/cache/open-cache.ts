/**
 * The open cache: what opening a layer learns, kept by layer digest in `<home>/cache/` so that the
 * next command on the same image does not inflate, hash or index it again.
 *   cache/layers/<hex>.idx        the layer record (record.ts framing): digest and diff_id as
 *                                 hashed, the entries with their data offsets, the warnings, the
 *                                 limits it was indexed under, the chunk digests of the .tar
 *   cache/layers/<hex>.tar        a compressed layer's uncompressed tar (the spill file, kept)
 *   cache/layers/<hex>.gzi        instead of the .tar, for a gzip layer of a registry read lazily:
 *                                 its random-access index (src/archive/gzip-index.ts, OCI-22); the
 *                                 tar is read through it by Range requests of the blob
 *   cache/locations/<sha>.loc     a cheap stat key of where a blob was read (device, inode, size,
 *                                 mtime, ctime of its file, offset and length) → its digest and
 *                                 diff_id, so a blob already hashed is not hashed again
 * Rules:
 * - Only what was hashed is recorded: a layer is written to the cache only from an open that
 *   hashed its blob and its tar (never from digests a manifest claimed).
 * - Kill-safety: every file is written beside its target, fsynced and renamed (atomic.ts); the
 *   .tar (or .gzi) is in place before the .idx that names it, the .idx before the .loc that leads
 *   to it. A kill leaves at most a dead writer's scratch file (removed by the next writer) or an
 *   orphan .tar or .gzi.
 * - A corrupt record (framing, length, checksum), a .tar of the wrong size or a .gzi that does not
 *   parse (its own version and checksum) is dropped and rebuilt;
 *   a .tar chunk whose digest does not match is found when read (checked-region.ts).
 * - Writing the cache is best effort: a cache that cannot be written never fails the open.
 */
import { closeSync, fdatasyncSync, fstatSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { cleanLeftovers, fsyncDir, moveToTrash, scratchPath, writeFileAtomic } from '../../core/atomic.js';
import { FileRegion, type ByteSource } from '../../source.js';
import { readRecord, writeRecord } from './record.js';

export interface LocationRecord {
  key: string;
  digest: string;
  diffId: string;
}

/** What a cache did in this process: for tests and `system df`, never for decisions. */
export interface CacheStats {
  /** Layers answered from the cache. */
  hits: number;
  /** Layers opened from their blob and written to the cache. */
  built: number;
  /** Records or data files found corrupt (and dropped). */
  corrupt: number;
  /** Location keys that named a digest (no hashing of the blob). */
  locationHits: number;
}

/** Points in writing an entry, for the crash tests (a child is killed at one of them). */
export type CacheStep = 'spill-synced' | 'spill-renamed' | 'index-written' | 'record-written' | 'location-written';

const hexOf = (digest: string): string => {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new TypeError(`not a sha256 digest: ${digest}`);
  return m[1];
};

export class OpenCache {
  readonly layersDir: string;
  readonly locationsDir: string;
  readonly stats: CacheStats = { hits: 0, built: 0, corrupt: 0, locationHits: 0 };
  /** Called after each step of writing an entry (tests only). */
  onStep?: (step: CacheStep, digest: string) => void;
  /** Removing dead writers' scratch files (started by the first scratch file, awaited before the first record). */
  private cleaning: Promise<unknown> | undefined;

  constructor(readonly dir: string) {
    this.layersDir = join(dir, 'layers');
    this.locationsDir = join(dir, 'locations');
  }

  /** The cache of a state home: `<home>/cache`. */
  static ofHome(home: string): OpenCache {
    return new OpenCache(join(home, 'cache'));
  }

  recordPath(digest: string): string {
    return join(this.layersDir, `${hexOf(digest)}.idx`);
  }
  dataPath(digest: string): string {
    return join(this.layersDir, `${hexOf(digest)}.tar`);
  }
  indexPath(digest: string): string {
    return join(this.layersDir, `${hexOf(digest)}.gzi`);
  }

  /**
   * The stat key of a blob: only a region of a file that has a name (an anonymous spill file has
   * none: its inode number may be reused), read as device, inode, size, mtime and ctime in
   * nanoseconds (ctime cannot be set back by a user), plus where the region is.
   */
  locationKey(src: ByteSource): string | undefined {
    if (!(src instanceof FileRegion)) return undefined;
    try {
      const st = fstatSync(src.fd, { bigint: true });
      if (st.nlink === 0n || !st.isFile()) return undefined;
      return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}:${src.start}:${src.size}`;
    } catch {
      return undefined;
    }
  }

  private locationPath(key: string): string {
    return join(this.locationsDir, `${createHash('sha256').update(key).digest('hex')}.loc`);
  }

  location(key: string): LocationRecord | undefined {
    const r = readRecord<LocationRecord>('location', this.locationPath(key));
    if (r === undefined) return undefined;
    if ('corrupt' in r || r.value.key !== key) {
      this.drop(this.locationPath(key));
      return undefined;
    }
    this.stats.locationHits++;
    return r.value;
  }

  /** The record of `digest`, parsed; undefined when absent or corrupt (then dropped). */
  record<T>(digest: string): T | undefined {
    const path = this.recordPath(digest);
    const r = readRecord<T>('layer', path);
    if (r === undefined) return undefined;
    if ('corrupt' in r) {
      this.drop(path);
      return undefined;
    }
    return r.value;
  }

  has(digest: string): boolean {
    try {
      statSync(this.recordPath(digest));
      return true;
    } catch {
      return false;
    }
  }

  /** Drops a file of the cache found corrupt (its record goes with a .tar). */
  drop(path: string): void {
    this.stats.corrupt++;
    try {
      unlinkSync(path);
    } catch {
      /* gone already */
    }
  }

  /** Drops a layer's record and data (a corrupt .tar or .gzi). */
  dropLayer(digest: string): void {
    this.drop(this.recordPath(digest));
    for (const path of [this.dataPath(digest), this.indexPath(digest)]) {
      try {
        unlinkSync(path);
      } catch {
        /* gone already */
      }
    }
  }

  /**
   * A scratch file for a layer's uncompressed tar, in the cache (so it can be renamed into place),
   * or undefined when the cache cannot be written. Leftovers of dead writers are removed first.
   */
  openScratch(digestHint: string): { fd: number; path: string } | undefined {
    try {
      mkdirSync(this.layersDir, { recursive: true });
      this.cleaning ??= cleanLeftovers(this.layersDir).catch(() => undefined);
      const path = scratchPath('tmp', join(this.layersDir, `${digestHint}.tar`));
      return { fd: openSync(path, 'wx+', 0o600), path };
    } catch {
      return undefined;
    }
  }

  /** Step 1 of writing an entry: the scratch tar made durable and renamed into place. */
  async placeData(scratch: { fd: number; path: string }, digest: string): Promise<void> {
    fdatasyncSync(scratch.fd);
    this.onStep?.('spill-synced', digest);
    await rename(scratch.path, this.dataPath(digest));
    await fsyncDir(this.layersDir);
    this.onStep?.('spill-renamed', digest);
  }

  /** Step 1 for a layer kept as a gzip index: the .gzi, written beside and renamed into place. */
  async placeIndex(digest: string, bytes: Uint8Array): Promise<void> {
    mkdirSync(this.layersDir, { recursive: true });
    await (this.cleaning ??= cleanLeftovers(this.layersDir).catch(() => undefined));
    await writeFileAtomic(this.indexPath(digest), bytes);
    this.onStep?.('index-written', digest);
  }

  /** Step 2: the record (after its data), then the location that leads to it. */
  async placeRecord(digest: string, record: unknown, location?: LocationRecord): Promise<void> {
    mkdirSync(this.layersDir, { recursive: true });
    await (this.cleaning ??= cleanLeftovers(this.layersDir).catch(() => undefined));
    await writeRecord('layer', this.recordPath(digest), record);
    this.onStep?.('record-written', digest);
    this.stats.built++;
    if (location) await this.placeLocation(location);
  }

  async placeLocation(location: LocationRecord): Promise<void> {
    mkdirSync(this.locationsDir, { recursive: true });
    await writeRecord('location', this.locationPath(location.key), location);
    this.onStep?.('location-written', location.digest);
  }

  /** Removes a scratch file that will not be placed (the open failed or the cache cannot be written). */
  discard(scratch: { fd: number; path: string }, close: boolean): void {
    try {
      unlinkSync(scratch.path);
    } catch {
      /* renamed or gone */
    }
    if (close)
      try {
        closeSync(scratch.fd);
      } catch {
        /* closed */
      }
  }

  /** `system df`: what the cache holds. */
  usage(): CacheUsage {
    const layers = new Map<string, CacheLayerUsage>();
    let bytes = 0;
    let locations = 0;
    let scratch = 0;
    for (const name of safeList(this.layersDir)) {
      const m = /^([0-9a-f]{64})\.(idx|tar|gzi)$/.exec(name);
      const size = safeSize(join(this.layersDir, name));
      bytes += size;
      if (!m) {
        scratch += size;
        continue;
      }
      const u = layers.get(m[1]) ?? { digest: `sha256:${m[1]}`, recordBytes: 0, dataBytes: 0, indexBytes: 0, complete: false };
      if (m[2] === 'idx') {
        u.recordBytes = size;
        u.complete = true;
      } else if (m[2] === 'gzi') u.indexBytes = size;
      else u.dataBytes = size;
      layers.set(m[1], u);
    }
    for (const name of safeList(this.locationsDir)) {
      bytes += safeSize(join(this.locationsDir, name));
      locations++;
    }
    return { dir: this.dir, bytes, layers: [...layers.values()], locations, scratchBytes: scratch };
  }

  /** `system prune`: the whole cache, renamed away in one step and deleted; returns what it held. */
  async prune(): Promise<CacheUsage> {
    const before = this.usage();
    const trash = await moveToTrash(this.dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (trash !== undefined) await rm(trash, { recursive: true, force: true });
    return before;
  }
}

export interface CacheLayerUsage {
  digest: string;
  recordBytes: number;
  /** The kept .tar. */
  dataBytes: number;
  /** The kept .gzi (a gzip layer read by ranges through it). */
  indexBytes: number;
  complete: boolean;
}
export interface CacheUsage {
  dir: string;
  bytes: number;
  layers: CacheLayerUsage[];
  locations: number;
  scratchBytes: number;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
function safeSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
