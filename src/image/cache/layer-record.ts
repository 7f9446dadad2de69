/**
 * A layer as the open cache keeps it: what readLayer found (entries with the offset of their data
 * in the tar, warnings) and what opening verified (digest, diff_id, sizes), with the limits it was
 * indexed under. Entries are arrays, not objects: a record of 100,000 entries parses in tens of ms.
 */
import type { Entry, EntryType } from '../../entry.js';
import type { Limits } from '../../archive/limits.js';
import { sliceSource } from '../../archive/tar-index.js';
import type { Compression } from '../../archive/compression.js';
import type { ByteSource } from '../../source.js';

/** The limits that bear on one layer alone; the cumulative ones (entries, bytes) are re-counted. */
export const LAYER_LIMITS = ['maxPathLength', 'maxPathDepth', 'maxMetaBytes', 'maxZstdWindowBytes'] as const;
export type LayerLimits = Pick<Limits, (typeof LAYER_LIMITS)[number]>;

/** [path, type, mode, uid, gid, mtime, size, dataOffset | -1, linkname, devmajor, devminor, xattrs (base64)] */
type EncodedEntry = [string, EntryType, number, number, number, number, number, number, (string | null)?, (number | null)?, (number | null)?, Record<string, string>?];

export interface LayerRecord {
  digest: string;
  diffId: string;
  compression: Compression;
  compressedSize: number;
  size: number;
  /** Tar members counted against maxEntries. */
  members: number;
  limits: LayerLimits;
  /** sha256 of each CHECK_CHUNK of the kept tar, concatenated, base64 (compressed layers). */
  chunks?: string;
  /** A gzip layer of a remote blob: no tar is kept, its index is (`<hex>.gzi`, OCI-22). */
  gzi?: boolean;
  /** Warnings without their `file: context` prefix, which is the opener's. */
  warnings: string[];
  entries: EncodedEntry[];
}

/** Per-layer limits now at least those the record was indexed under: reading it is what an open would do. */
export function limitsAllow(rec: LayerRecord, now: Limits): boolean {
  return LAYER_LIMITS.every((k) => now[k] >= rec.limits[k]);
}

export function layerLimits(l: Limits): LayerLimits {
  return { maxPathLength: l.maxPathLength, maxPathDepth: l.maxPathDepth, maxMetaBytes: l.maxMetaBytes, maxZstdWindowBytes: l.maxZstdWindowBytes };
}

export function encodeEntries(entries: Entry[], offsets: Map<Entry, number>): EncodedEntry[] {
  return entries.map((e) => {
    const row: EncodedEntry = [e.path, e.type, e.mode, e.uid, e.gid, e.mtime, e.size, offsets.get(e) ?? -1];
    if (e.linkname !== undefined || e.devmajor !== undefined || e.xattrs) {
      row.push(e.linkname ?? null, e.devmajor ?? null, e.devminor ?? null);
      if (e.xattrs) row.push(Object.fromEntries(Object.entries(e.xattrs).map(([k, v]) => [k, v.toString('base64')])));
    }
    return row;
  });
}

export function decodeEntries(rows: EncodedEntry[], tar: ByteSource): Entry[] {
  const out: Entry[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const e: Entry = { path: r[0], type: r[1], mode: r[2], uid: r[3], gid: r[4], mtime: r[5], size: r[6] };
    if (r[7] >= 0) e.content = sliceSource(tar, r[7], r[6]);
    if (r.length > 8) {
      if (r[8] != null) e.linkname = r[8];
      if (r[9] != null) e.devmajor = r[9];
      if (r[10] != null) e.devminor = r[10];
      if (r[11]) e.xattrs = Object.fromEntries(Object.entries(r[11]).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
    }
    out[i] = e;
  }
  return out;
}

/** A warning is kept without the prefix the opener adds, and given back with the next opener's. */
export function stripPrefix(warning: string, prefix: string): string {
  return warning.startsWith(prefix) ? `\0${warning.slice(prefix.length)}` : warning;
}
export function addPrefix(warning: string, prefix: string): string {
  return warning.startsWith('\0') ? prefix + warning.slice(1) : warning;
}
