/**
 * A zstd:chunked layer's entries from its table of contents (src/archive/zstd-chunked.ts): each
 * TOC entry becomes an entry as its tar member would (whiteouts, opaque markers, hard links,
 * duplicates: read.ts), and each regular file's data is read through its own frames.
 */
import type { Entry } from '../entry.js';
import type { Budget } from '../archive/limits.js';
import { ChunkedFile, readToc, type TocPosition } from '../archive/zstd-chunked.js';
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

/** The layer's entries, and the bytes of file data it holds (its tar is not read, so not its size). */
export function readChunkedLayer(blob: ByteSource, pos: TocPosition, opts: ChunkedLayerOptions): { entries: Entry[]; size: number } {
  const toc = readToc(blob, pos, opts);
  let size = 0;
  const members = toc.map(({ member, frames }) => {
    size += member.size;
    return { member, content: frames ? new ChunkedFile(blob, frames, member.size, member.name, opts) : EMPTY };
  });
  return { entries: readMembers(members, opts), size };
}
