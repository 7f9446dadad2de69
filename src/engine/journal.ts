/**
 * A container layer saved in small steps: the whole layer (layer.tar) plus an append-only journal
 * (layer.journal) of what changed since, one frame per sync. Rules:
 * - a frame is `LFJ1`, a 4-byte big-endian payload length, then the payload: a 4-byte length and
 *   a JSON header `{ drop: [paths] }` (paths that left the layer), then a tar (tar-write.ts) of the
 *   entries that are new or changed (the layer's own form: whiteouts, opaque markers, hard links);
 * - the container record is the commit point: it names the journal's committed length and a chain
 *   digest (sha256 of the previous digest's hex and the frame's sha256 hex, from sha256('') up), so
 *   bytes past that length (a torn tail, after a kill mid-append) are ignored and cut off by the
 *   next append, and a frame is never half applied;
 * - a new layer.tar (compaction: on close, or when the journal outgrows it) starts a new journal.
 * What changed is found by comparing each entry of the writable layer with the last sync's: its
 * type, attributes, size, target and xattrs, and for a file its ctime; as git does for "racily
 * clean" index entries, a file whose ctime is not before the last sync's clock is taken as changed
 * (two writes in one millisecond leave the same ctime).
 */
import { createHash } from 'node:crypto';
import type { Entry } from '../entry.js';
import { StateError } from '../errors.js';

const MAGIC = Buffer.from('LFJ1');

export const EMPTY_CHAIN = `sha256:${createHash('sha256').digest('hex')}`;

/** The chain digest after one more frame. */
export function chainDigest(prev: string, frame: Uint8Array): string {
  const f = createHash('sha256').update(frame).digest('hex');
  return `sha256:${createHash('sha256').update(`${prev.slice(7)}${f}`).digest('hex')}`;
}

/** One frame as bytes: the header (paths dropped) and the tar of changed entries. */
export function encodeFrame(drop: string[], tar: Uint8Array): Buffer {
  const header = Buffer.from(JSON.stringify({ drop }), 'utf8');
  const out = Buffer.alloc(8 + 4 + header.length + tar.length);
  MAGIC.copy(out, 0);
  out.writeUInt32BE(4 + header.length + tar.length, 4);
  out.writeUInt32BE(header.length, 8);
  header.copy(out, 12);
  out.set(tar, 12 + header.length);
  return out;
}

export interface Frame { drop: string[]; tar: Buffer; bytes: Buffer }

/**
 * The frames in the committed part of a journal, checked against the record's chain digest;
 * CORRUPT (naming `file`) when they do not add up.
 */
export function decodeFrames(file: string, data: Buffer, size: number, digest: string): Frame[] {
  if (data.length < size) throw new StateError('CORRUPT', file, `holds ${data.length} bytes, but the record commits ${size}`);
  const frames: Frame[] = [];
  let chain = EMPTY_CHAIN;
  for (let at = 0; at < size;) {
    if (size - at < 12 || !data.subarray(at, at + 4).equals(MAGIC)) throw new StateError('CORRUPT', file, `no journal frame at byte ${at}`);
    const len = data.readUInt32BE(at + 4);
    const hlen = data.readUInt32BE(at + 8);
    if (at + 8 + len > size || hlen > len - 4) throw new StateError('CORRUPT', file, `the frame at byte ${at} runs past the committed ${size} bytes`);
    const bytes = data.subarray(at, at + 8 + len);
    let drop: unknown;
    try {
      drop = (JSON.parse(data.subarray(at + 12, at + 12 + hlen).toString('utf8')) as { drop?: unknown }).drop;
    } catch (e) {
      throw new StateError('CORRUPT', file, `the frame at byte ${at} has a malformed header (${(e as Error).message})`);
    }
    if (!Array.isArray(drop) || !drop.every((p) => typeof p === 'string')) throw new StateError('CORRUPT', file, `the frame at byte ${at} has no drop list`);
    frames.push({ drop, tar: data.subarray(at + 12 + hlen, at + 8 + len), bytes });
    chain = chainDigest(chain, bytes);
    at += 8 + len;
  }
  if (chain !== digest) throw new StateError('CORRUPT', file, `its frames add up to ${chain}, but the record commits ${digest}`);
  return frames;
}

/** An entry's key in a layer: an opaque marker shares its directory's path. */
const key = (e: Entry): string => (e.type === 'opaque' ? `${e.path}\0opaque` : e.path);

/**
 * Replays frames over the base layer's entries: each frame's dropped paths leave, then its entries
 * are put (a changed entry replaces the old one). Hard links come last, after every name they
 * may point at.
 */
export function replay(base: Entry[], frames: Entry[][], drops: string[][]): Entry[] {
  const all = new Map<string, Entry>();
  for (const e of base) all.set(key(e), e);
  frames.forEach((entries, i) => {
    for (const k of drops[i]!) all.delete(k);
    for (const e of entries) all.set(key(e), e);
  });
  const list = [...all.values()];
  return [...list.filter((e) => e.type !== 'hardlink'), ...list.filter((e) => e.type === 'hardlink')];
}

/** What the last sync saw of each entry. */
export type Snapshot = Map<string, string>;

function signature(e: Entry, ctime: number | undefined): string {
  const x = e.xattrs ? Object.entries(e.xattrs).map(([k, v]) => `${k}=${v.toString('hex')}`).sort().join(',') : '';
  return [e.type, e.mode, e.uid, e.gid, e.mtime, e.size, e.linkname ?? '', e.devmajor ?? '', e.devminor ?? '', x, ctime ?? ''].join('|');
}

/**
 * The writable layer's entries now, against the last sync's snapshot: which entries to write,
 * which keys to drop, and the snapshot to keep. `ctimeOf` gives a file's ctime (ms); `since` is
 * the clock when the last snapshot was taken.
 */
export function delta(now: Entry[], prev: Snapshot, since: number, ctimeOf: (path: string) => number | undefined): { changed: Entry[]; drop: string[]; next: Snapshot } {
  const next: Snapshot = new Map();
  const changed: Entry[] = [];
  for (const e of now) {
    const ctime = e.type === 'file' ? ctimeOf(e.path) : undefined;
    const sig = signature(e, ctime);
    const k = key(e);
    next.set(k, sig);
    const racy = ctime !== undefined && ctime >= since;
    if (prev.get(k) !== sig || racy) changed.push(e);
  }
  const drop = [...prev.keys()].filter((k) => !next.has(k));
  return { changed, drop, next };
}
