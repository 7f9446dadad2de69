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
 * - a new layer.tar (compaction: on close, or when the journal outgrows it) starts a new journal;
 * - a frame's tar holds whole files, so it is never one buffer: it is streamed into the journal
 *   after its head (frameHead, whose length field is known beforehand from the entries) and read
 *   back as a window onto the journal file (decodeFrames).
 * What changed since the last frame is found by delta.ts.
 */
import { createHash } from 'node:crypto';
import type { Entry } from '../entry.js';
import { StateError } from '../core/errors.js';
import { readAll, sha256Of, type ByteSource } from '../source.js';

const MAGIC = Buffer.from('LFJ1');
/** The frame's magic and payload length, then the header's length. */
const HEAD = 12;

export const EMPTY_CHAIN = `sha256:${createHash('sha256').digest('hex')}`;

/** The chain digest after one more frame, from the frame's own sha256 (`sha256:<hex>`). */
export function chainNext(prev: string, frameDigest: string): string {
  return `sha256:${createHash('sha256')
    .update(`${prev.slice(7)}${frameDigest.slice(7)}`)
    .digest('hex')}`;
}

/** The payload length field is 32 bits: a frame's header and tar stay under 4 GiB. */
const MAX_PAYLOAD = 0xffff_ffff;

/**
 * The bytes of a frame before its tar: the magic, the payload length, the header (paths dropped);
 * undefined when the payload is too long for its 32-bit length field (the change does not fit in
 * one frame). The tar follows, streamed (it holds whole files, so it is never made one buffer):
 * `tarSize` is its length, known before it is written (tarSize in src/out/tar-write.ts).
 */
export function frameHead(drop: string[], tarSize: number): Buffer | undefined {
  const header = Buffer.from(JSON.stringify({ drop }), 'utf8');
  if (4 + header.length + tarSize > MAX_PAYLOAD) return undefined;
  const out = Buffer.alloc(HEAD + header.length);
  MAGIC.copy(out, 0);
  out.writeUInt32BE(4 + header.length + tarSize, 4);
  out.writeUInt32BE(header.length, 8);
  header.copy(out, HEAD);
  return out;
}

/** A window of a source that can be cut into smaller windows (a FileRegion, a BufferSource). */
export type Region = ByteSource & { slice(start: number, size: number): ByteSource };

/** One committed frame: the paths it drops, and its tar, a window onto the journal. */
export interface Frame {
  drop: string[];
  tar: ByteSource;
}

/**
 * The frames in the committed part of a journal, checked against the record's chain digest;
 * CORRUPT (naming `file`) when they do not add up. Only the frame heads are read into memory; each
 * frame is hashed a piece at a time, and its tar is a window onto `src`.
 */
export function decodeFrames(file: string, src: Region, size: number, digest: string): Frame[] {
  if (src.size < size) throw new StateError('CORRUPT', file, `holds ${src.size} bytes, but the record commits ${size}`);
  const frames: Frame[] = [];
  let chain = EMPTY_CHAIN;
  for (let at = 0; at < size; ) {
    const head = size - at >= HEAD ? readAll(src.slice(at, HEAD)) : undefined;
    if (head === undefined || !head.subarray(0, 4).equals(MAGIC)) throw new StateError('CORRUPT', file, `no journal frame at byte ${at}`);
    const len = head.readUInt32BE(4);
    const hlen = head.readUInt32BE(8);
    if (at + 8 + len > size || hlen > len - 4) throw new StateError('CORRUPT', file, `the frame at byte ${at} runs past the committed ${size} bytes`);
    let drop: unknown;
    try {
      drop = (JSON.parse(readAll(src.slice(at + HEAD, hlen)).toString('utf8')) as { drop?: unknown }).drop;
    } catch (e) {
      throw new StateError('CORRUPT', file, `the frame at byte ${at} has a malformed header (${(e as Error).message})`);
    }
    if (!Array.isArray(drop) || !drop.every((p) => typeof p === 'string')) throw new StateError('CORRUPT', file, `the frame at byte ${at} has no drop list`);
    frames.push({ drop, tar: src.slice(at + HEAD + hlen, len - 4 - hlen) });
    chain = chainNext(chain, sha256Of(src.slice(at, 8 + len)));
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
