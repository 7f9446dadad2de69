/**
 * zstd:chunked layers (containers/storage, pkg/chunked) read through their table of contents (TOC),
 * so that listing a layer costs the TOC and reading a file costs that file's frames, never a pass
 * over the blob. Format only: the blob is any ByteSource (the registry's lazy view hands one that
 * makes one Range request per read).
 *
 * The format: the blob is an ordinary zstd stream of the layer tar (any zstd reader gets the tar,
 * and its sha256 is the diff_id), written so that each regular file's data is in frames of its own.
 * Near the end, in a skippable frame, is the TOC (toc.ts): zstd-compressed JSON whose regular
 * files have `offset`/`endOffset` (their frames in the blob; a chunked file's range covers all its
 * chunks). The layer descriptor's annotations say where the TOC is (`manifest-position`:
 * offset:length:uncompressedLength:type, the offset past the skippable frame's header) and its
 * sha256 (`manifest-checksum`).
 *
 * What this way of reading checks, and what it cannot:
 * - the TOC against the manifest's checksum (the manifest is verified by digest, so the TOC is
 *   as trustworthy as the manifest) before any of it is used;
 * - each file's data against its TOC digest and size before any byte of it is handed out;
 * - NOT the blob's digest or the layer's diff_id: both need every byte of the blob. The tar
 *   headers between the frames are never read; a blob whose tar says something else than its TOC
 *   is read as the TOC says. A pull (which fetches the blob whole) checks both.
 */
import { createHash } from 'node:crypto';
import { ArchiveError } from '../core/errors.js';
import type { ByteSource } from '../source.js';
import { Budget, formatBytes, limitError } from './limits.js';
import { DIGEST, parseToc, readExactly, type FrameDecoder, type TocMember, type TocOptions } from './toc.js';
import { decompressZstdSync, ZstdError } from './zstd.js';

/** The annotations skopeo 1.9 (containers/storage 1.4x) writes; newer releases write the second pair. */
const CHECKSUM_KEYS = ['io.containers.zstd-chunked.manifest-checksum', 'io.github.containers.zstd-chunked.manifest-checksum'];
const POSITION_KEYS = ['io.containers.zstd-chunked.manifest-position', 'io.github.containers.zstd-chunked.manifest-position'];

/** Where a layer's TOC is, from its descriptor's annotations. */
export interface TocPosition {
  offset: number;
  length: number;
  uncompressedLength: number;
  /** `sha256:<hex>` of the compressed TOC bytes. */
  checksum: string;
}

/**
 * The TOC's position from a layer descriptor's annotations; undefined when it has none (a plain
 * zstd layer). Rules: both annotations or neither; the position is four decimal numbers with type
 * 1 (the only TOC type there is), and the TOC lies inside the blob; the checksum is a sha256.
 */
export function tocPosition(annotations: Record<string, string> | undefined, blobSize: number, opts: TocOptions): TocPosition | undefined {
  const a = annotations ?? {};
  const checksum = CHECKSUM_KEYS.map((k) => a[k]).find((v) => v !== undefined);
  const position = POSITION_KEYS.map((k) => a[k]).find((v) => v !== undefined);
  if (checksum === undefined && position === undefined) return undefined;
  const bad = (problem: string): never => {
    throw new ArchiveError('BAD_MANIFEST', opts.file, `${opts.context ?? ''}zstd:chunked annotations: ${problem}`);
  };
  if (checksum === undefined || position === undefined) bad(`${checksum === undefined ? 'manifest-position' : 'manifest-checksum'} without the other`);
  if (!DIGEST.test(checksum!)) bad(`manifest-checksum is ${JSON.stringify(checksum)}, expected "sha256:" and 64 hex digits`);
  const parts = position!.split(':');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,15}$/.test(p))) bad(`manifest-position is ${JSON.stringify(position)}, expected offset:length:uncompressedLength:type`);
  const [offset, length, uncompressedLength, type] = parts.map(Number);
  if (type !== 1) bad(`manifest-position names TOC type ${type}; only type 1 exists`);
  if (length === 0 || offset + length > blobSize) bad(`the TOC at ${offset}+${length} is not inside the ${blobSize}-byte blob`);
  return { offset, length, uncompressedLength, checksum: checksum! };
}

function zstdProblem(e: unknown, opts: TocOptions, what: string): never {
  if (e instanceof ZstdError) throw new ArchiveError(e.code, opts.file, `${opts.context ?? ''}${what}: ${e.message}`);
  throw e;
}

/**
 * Reads, checks and parses the TOC. Rules, in order:
 * - one read of [offset, offset + length): the TOC is fetched by itself;
 * - its sha256 must be the manifest-checksum (DIGEST_MISMATCH, expected and found) BEFORE it is
 *   decompressed: nothing of an unverified TOC is used;
 * - it decompresses to exactly uncompressedLength bytes, at most limits.maxJsonBytes (LIMIT);
 * - it is JSON, whose entries follow toc.ts's rules, each regular file with data having frames
 *   [offset, endOffset) that end before the TOC.
 */
export function readToc(blob: ByteSource, pos: TocPosition, opts: TocOptions): TocMember[] {
  const ctx = opts.context ?? '';
  const budget = opts.budget ?? new Budget();
  const limits = budget.limits;
  const compressed = readExactly(blob, pos.offset, pos.length, opts, 'zstd:chunked TOC');
  const found = `sha256:${createHash('sha256').update(compressed).digest('hex')}`;
  if (found !== pos.checksum) {
    throw new ArchiveError('DIGEST_MISMATCH', opts.file, `${ctx}zstd:chunked TOC at ${pos.offset}+${pos.length}: sha256 is ${found}, the manifest-checksum annotation is ${pos.checksum}`);
  }
  const max = Math.min(pos.uncompressedLength, limits.maxJsonBytes);
  if (pos.uncompressedLength > limits.maxJsonBytes) {
    throw limitError(
      opts.file,
      ctx,
      `the zstd:chunked TOC is ${formatBytes(pos.uncompressedLength)} uncompressed; the limit for one JSON document is ${formatBytes(limits.maxJsonBytes)}`,
      'maxJsonBytes',
    );
  }
  const out = Buffer.allocUnsafe(max);
  let n = 0;
  try {
    decompressZstdSync(
      compressed,
      (c) => {
        if (n + c.length > max) throw new ArchiveError('BAD_HEADER', opts.file, `${ctx}zstd:chunked TOC decompresses to more than the ${pos.uncompressedLength} bytes its annotation says`);
        out.set(c, n);
        n += c.length;
      },
      { maxWindowBytes: limits.maxZstdWindowBytes },
    );
  } catch (e) {
    zstdProblem(e, opts, 'zstd:chunked TOC');
  }
  const bad = (problem: string): never => {
    throw new ArchiveError('BAD_HEADER', opts.file, `${ctx}zstd:chunked TOC: ${problem}`);
  };
  if (n !== pos.uncompressedLength) bad(`decompresses to ${n} bytes, its annotation says ${pos.uncompressedLength}`);
  let doc: unknown;
  try {
    doc = JSON.parse(out.toString('utf8', 0, n));
  } catch (e) {
    bad(`not JSON (${(e as Error).message})`);
  }
  return parseToc(doc, { ...opts, budget }, 'zstd:chunked TOC', pos.offset, true);
}

/** A zstd:chunked file's frames decoded (the frames hold exactly its data). */
export function zstdFrames(opts: TocOptions): FrameDecoder {
  return {
    trailing: false,
    decode: (input, sink, what) => {
      try {
        decompressZstdSync(input, sink, { maxWindowBytes: opts.budget?.limits.maxZstdWindowBytes });
      } catch (e) {
        zstdProblem(e, opts, what);
      }
    },
  };
}
