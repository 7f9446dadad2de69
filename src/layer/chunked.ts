/**
 * A zstd:chunked layer's entries from its table of contents (src/archive/zstd-chunked.ts): each
 * TOC entry becomes an entry as its tar member would (whiteouts, opaque markers, hard links,
 * duplicates: read.ts), and each regular file's data is read through its own frames.
 */
import type { Entry } from '../entry.js';
import type { Budget } from '../archive/limits.js';
import { ChunkedFile, lossyName, readToc, type TocPosition } from '../archive/zstd-chunked.js';
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
 * The layer's entries, and the bytes of file data it holds (its tar is not read, so not its size);
 * undefined when the TOC cannot name every member (lossyName: the caller reads the blob whole).
 */
export function readChunkedLayer(blob: ByteSource, pos: TocPosition, opts: ChunkedLayerOptions): { entries: Entry[]; size: number } | undefined {
  const toc = readToc(blob, pos, opts);
  const lossy = toc.find((t) => lossyName(t.member));
  if (lossy) {
    // Its members are counted again when the tar is read.
    if (opts.budget) opts.budget.entries -= toc.length;
    opts.onWarning?.(
      `${opts.file}: ${opts.context ?? ''}the zstd:chunked TOC names ${JSON.stringify(lossy.member.name)} with U+FFFD (a name that is not UTF-8 cannot be told from its TOC): the layer is read whole instead`,
    );
    return undefined;
  }
  let size = 0;
  const members = toc.map(({ member, frames }) => {
    size += member.size;
    return { member, content: frames ? new ChunkedFile(blob, frames, member.size, member.name, opts) : EMPTY };
  });
  return { entries: readMembers(members, opts), size };
}
