/**
 * A container layer saved in small steps: the whole layer (layer.tar) plus an append-only journal
 * (layer.journal) of what changed since, one frame per sync. Rules:
 * - a frame is `LFJ2`, a 4-byte big-endian payload length, the payload (a 4-byte length and a
 *   JSON header `{ drop: [paths] }` of paths that left the layer, then a tar (tar-write.ts) of the
 *   entries that are new or changed, in the layer's own form: whiteouts, opaque markers, hard
 *   links), then its check: the chain digest after it, 32 raw bytes. The chain digest is sha256 of
 *   the previous one's hex and the hex of the frame's sha256 (magic to tar), from sha256('') up;
 * - the container record names the journal when a journal starts (a journal it does not name is
 *   stale: compacted by a writer killed before deleting it) and then now and then (RECORD_EVERY):
 *   its committed length and chain digest. The frames up to that length must add up to that
 *   digest (CORRUPT if not). Past it, each frame commits itself: it counts when it is whole and its
 *   check is the chain digest after it, and the first that is not ends the journal (a torn tail,
 *   after a kill mid-append, as a write-ahead log ends), to be cut off by the next append. So a
 *   sync is one flush, and a frame is never half applied;
 * - `LFJ1` frames (journals written before frames checked themselves) have no check: they count
 *   only up to the record's length;
 * - a new layer.tar (compaction: on close, or when the journal outgrows it) starts a new journal;
 * - a frame's tar holds whole files, so it is never one buffer: it is streamed into the journal
 *   after its head (frameHead, whose length field is known beforehand from the entries) and read
 *   back as a window onto the journal file (namedFrames, committedTail).
 * What changed since the last frame is found by delta.ts.
 */
import { createHash } from 'node:crypto';
import type { Entry } from '../entry.js';
import { StateError } from '../core/errors.js';
import { readAll, sha256Of, type ByteSource } from '../source.js';

const MAGIC = Buffer.from('LFJ2');
const MAGIC_V1 = Buffer.from('LFJ1');
/** The frame's magic and payload length, then the header's length. */
const HEAD = 12;
/** An LFJ2 frame's check: the chain digest after it, raw. */
export const CHECK = 32;
/**
 * The record is written again once this many bytes are committed past what it names, so that
 * finding the journal's end (committedTail) reads and hashes at most this much.
 */
export const RECORD_EVERY = 128 << 10;

export const EMPTY_CHAIN = `sha256:${createHash('sha256').digest('hex')}`;

/** The chain digest after one more frame, from the frame's own sha256 (`sha256:<hex>`). */
export function chainNext(prev: string, frameDigest: string): string {
  return `sha256:${createHash('sha256')
    .update(`${prev.slice(7)}${frameDigest.slice(7)}`)
    .digest('hex')}`;
}

/** A frame's check (its last 32 bytes), from the chain digest after it. */
export const frameCheck = (chain: string): Buffer => Buffer.from(chain.slice(7), 'hex');

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

/** Where a journal's committed frames end: its length and the chain digest there. */
export interface JournalEnd {
  size: number;
  digest: string;
}

/**
 * The frames of `src` from byte `at` (chain digest `chain` there) to `end`. `strict` (the part the
 * record names): anything but whole frames that add up is CORRUPT, naming `file`. Otherwise (past
 * it) the first frame that is not whole, not LFJ2, or fails its check ends the walk. Only frame
 * heads are read into memory; each frame is hashed a piece at a time, its tar a window onto `src`.
 */
function walk(file: string, src: Region, at: number, chain: string, end: number, strict: boolean): { frames: Frame[]; end: JournalEnd } {
  const frames: Frame[] = [];
  const bad = (why: string): never => {
    throw new StateError('CORRUPT', file, why);
  };
  while (at < end) {
    const head = end - at >= HEAD ? readAll(src.slice(at, HEAD)) : undefined;
    const magic = head?.subarray(0, 4);
    const v2 = magic?.equals(MAGIC) === true;
    if (!v2 && !(strict && magic?.equals(MAGIC_V1))) {
      if (strict) bad(`no journal frame at byte ${at}`);
      break;
    }
    const len = head!.readUInt32BE(4);
    const hlen = head!.readUInt32BE(8);
    const whole = 8 + len + (v2 ? CHECK : 0);
    if (at + whole > end || hlen > len - 4) {
      if (strict) bad(`the frame at byte ${at} runs past the committed ${end} bytes`);
      break;
    }
    const next = chainNext(chain, sha256Of(src.slice(at, 8 + len)));
    if (v2 && !readAll(src.slice(at + 8 + len, CHECK)).equals(frameCheck(next))) {
      if (strict) bad(`the frame at byte ${at} fails its check`);
      break;
    }
    let drop: unknown;
    try {
      drop = (JSON.parse(readAll(src.slice(at + HEAD, hlen)).toString('utf8')) as { drop?: unknown }).drop;
    } catch (e) {
      bad(`the frame at byte ${at} has a malformed header (${(e as Error).message})`);
    }
    if (!Array.isArray(drop) || !drop.every((p) => typeof p === 'string')) bad(`the frame at byte ${at} has no drop list`);
    frames.push({ drop: drop as string[], tar: src.slice(at + HEAD + hlen, len - 4 - hlen) });
    chain = next;
    at += whole;
  }
  return { frames, end: { size: at, digest: chain } };
}

function holds(file: string, src: Region, recorded: JournalEnd): void {
  if (src.size < recorded.size) throw new StateError('CORRUPT', file, `holds ${src.size} bytes, but the record commits ${recorded.size}`);
}

/**
 * The frames past the part the record names (`recorded`) that commit themselves, and where the
 * committed frames end: read and hashed, at most RECORD_EVERY bytes and a torn tail.
 */
export function committedTail(file: string, src: Region, recorded: JournalEnd): { frames: Frame[]; end: JournalEnd } {
  holds(file, src, recorded);
  return walk(file, src, recorded.size, recorded.digest, src.size, false);
}

/**
 * The frames of the part of a journal the record names (`recorded`), checked against its chain
 * digest: CORRUPT, naming `file`, when they do not add up.
 */
export function namedFrames(file: string, src: Region, recorded: JournalEnd): Frame[] {
  holds(file, src, recorded);
  const named = walk(file, src, 0, EMPTY_CHAIN, recorded.size, true);
  if (named.end.digest !== recorded.digest) throw new StateError('CORRUPT', file, `its frames add up to ${named.end.digest}, but the record commits ${recorded.digest}`);
  return named.frames;
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
