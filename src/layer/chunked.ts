/**
 * A zstd:chunked or eStargz layer's entries from its table of contents (src/archive/toc.ts,
 * zstd-chunked.ts, estargz.ts): each TOC entry becomes an entry as its tar member would
 * (whiteouts, opaque markers, hard links, duplicates: read.ts), and each regular file's data is
 * read through its own frames or gzip members.
 */
import type { Entry } from '../entry.js';
import type { Budget } from '../archive/limits.js';
import { gzipMembers, readEstargzToc } from '../archive/estargz.js';
import { lossyName, TocFile, type FrameDecoder, type TocMember } from '../archive/toc.js';
import { readToc, zstdFrames, type TocPosition } from '../archive/zstd-chunked.js';
import { BufferSource, type ByteSource } from '../source.js';
import { readMembers } from './read.js';

export interface ChunkedLayerOptions {
  file: string;
  context?: string;
  onWarning?: (message: string) => void;
  budget?: Budget;
  /** An anonymous file for a large file's checked data (closed with the image). */
  spill: () => number;
}

const EMPTY = new BufferSource(new Uint8Array(0));

/**
 * A zstd:chunked layer's entries, and the bytes of file data it holds (its tar is not read, so not
 * its size); undefined when the TOC cannot name every member (lossyName: the caller reads the
 * blob whole).
 */
export function readChunkedLayer(blob: ByteSource, pos: TocPosition, opts: ChunkedLayerOptions): { entries: Entry[]; size: number } | undefined {
  const decoder = zstdFrames(opts);
  return tocLayer(readToc(blob, pos, opts), 'zstd:chunked', blob, opts, () => decoder);
}

/** An eStargz layer's entries, as readChunkedLayer's (src/archive/estargz.ts). */
export function readEstargzLayer(blob: ByteSource, tocDigest: string, opts: ChunkedLayerOptions): { entries: Entry[]; size: number } | undefined {
  return tocLayer(readEstargzToc(blob, tocDigest, opts).members, 'eStargz', blob, opts, (size) => gzipMembers(opts, size));
}

function tocLayer(
  toc: Array<TocMember & { content?: ByteSource }>,
  format: string,
  blob: ByteSource,
  opts: ChunkedLayerOptions,
  decoder: (size: number) => FrameDecoder,
): { entries: Entry[]; size: number } | undefined {
  const lossy = toc.find((t) => lossyName(t.member));
  if (lossy) {
    // Its members are counted again when the tar is read.
    if (opts.budget) opts.budget.entries -= toc.length;
    opts.onWarning?.(
      `${opts.file}: ${opts.context ?? ''}the ${format} TOC names ${JSON.stringify(lossy.member.name)} with U+FFFD (a name that is not UTF-8 cannot be told from its TOC): the layer is read whole instead`,
    );
    return undefined;
  }
  let size = 0;
  const members = toc.map(({ member, frames, content }) => {
    size += member.size;
    return { member, content: content ?? (frames ? new TocFile(blob, frames, member.size, member.name, opts, decoder(member.size)) : EMPTY) };
  });
  return { entries: readMembers(members, opts), size };
}
