/**
 * Where an image's files live: a directory, or a tar archive indexed once (never loaded whole).
 * Both answer `get(path)` with a `ByteSource`, so the format readers do not care which it is.
 */
import { closeSync, openSync, fstatSync, realpathSync, statSync } from 'node:fs';
import { join, posix, sep } from 'node:path';
import { FileRegion, readAll, type ByteSource } from '../source.js';
import { ArchiveError } from '../core/errors.js';
import type { Entry } from '../entry.js';
import { indexTar, sliceSource, type TarMember } from '../archive/tar-index.js';
import { DEFAULT_LIMITS, formatBytes, limitError, type Budget, type Limits } from '../archive/limits.js';

/** File descriptors opened while loading an image; `closeAll` closes each once. */
export class Resources {
  private fds: number[] = [];
  track(fd: number): number {
    this.fds.push(fd);
    return fd;
  }
  /** Takes over `other`'s descriptors (closed with these from now on). */
  adopt(other: Resources): void {
    for (const fd of other.fds) this.fds.push(fd);
    other.fds = [];
  }
  closeAll(): void {
    const fds = this.fds;
    this.fds = [];
    for (const fd of fds) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
  }
}

export interface Blob {
  source: ByteSource;
  /** The path the data was found at, after following links. */
  path: string;
  /** A layer blob whose entries are read another way than by a pass over it (layers.ts). */
  layer?: PreparedLayer;
}

/**
 * A layer read without a pass over its blob: a zstd:chunked layer through its table of contents
 * (the registry's lazy view, src/registry/lazy.ts). `open` reads and checks what that way can
 * check (the TOC, then each file's data when it is read); the blob's digest and diff_id are not
 * checked (that needs every byte). Used only when the image is opened without `verify`.
 */
export interface PreparedLayer {
  /** Undefined when this way cannot read the layer faithfully: it is then opened whole, verified. */
  open(opts: { file: string; context: string; onWarning: (m: string) => void; budget?: Budget }): { entries: Entry[]; size: number } | undefined;
  /** The uncompressed tar, for what needs it whole (export-layer); may fail when read. */
  tar: ByteSource;
}

export interface BlobStore {
  /** The image file or directory, for messages. */
  readonly file: string;
  has(path: string): boolean;
  /** The regular file at `path` (links followed), or undefined. */
  get(path: string): Blob | undefined;
  /** What the image may make the reader do (JSON document size, among others). */
  readonly limits: Limits;
}

/** Archive member names and manifest paths in one form: no './', leading or trailing '/'. */
export function cleanPath(p: string): string | undefined {
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  return parts.join('/');
}

/**
 * An image laid out in a directory (OCI layout, or an extracted docker save). Symlinks inside it
 * are followed only while they stay inside the directory.
 */
export class DirStore implements BlobStore {
  private cache = new Map<string, Blob | undefined>();
  private readonly root: string;
  constructor(
    readonly file: string,
    private readonly res: Resources,
    readonly limits: Limits = DEFAULT_LIMITS,
  ) {
    this.root = realpathSync(file);
  }
  has(path: string): boolean {
    const p = cleanPath(path);
    if (p === undefined) return false;
    try {
      return statSync(join(this.file, p)).isFile();
    } catch {
      return false;
    }
  }
  get(path: string): Blob | undefined {
    const p = cleanPath(path);
    if (p === undefined) return undefined; // '..' above the image directory: not part of the image
    if (this.cache.has(p)) return this.cache.get(p);
    let real: string;
    try {
      real = realpathSync(join(this.root, p));
    } catch {
      this.cache.set(p, undefined);
      return undefined;
    }
    if (!real.startsWith(this.root + sep)) {
      throw new ArchiveError('UNSAFE_PATH', this.file, `${p} leads to ${real}, outside the image directory`);
    }
    let blob: Blob | undefined;
    try {
      const fd = openSync(real, 'r');
      this.res.track(fd);
      const st = fstatSync(fd);
      blob = st.isFile()
        ? {
            source: new FileRegion(fd, 0, st.size),
            path: real
              .slice(this.root.length + 1)
              .split(sep)
              .join('/'),
          }
        : undefined;
    } catch {
      blob = undefined;
    }
    this.cache.set(p, blob);
    return blob;
  }
}

const MAX_LINK_HOPS = 40;

/**
 * An image inside a tar. Members are found by cleaned name (the last of a repeated name wins).
 * Symlinks and hard links inside the archive are followed, as go-containerregistry's
 * `tarball` reader does for legacy `<id>/layer.tar` links, with a hop limit against cycles.
 */
export class TarStore implements BlobStore {
  private members = new Map<string, TarMember>();
  readonly limits: Limits;
  constructor(
    readonly file: string,
    private readonly src: ByteSource,
    onWarning?: (m: string) => void,
    budget?: Budget,
  ) {
    this.limits = budget?.limits ?? DEFAULT_LIMITS;
    for (const m of indexTar(src, { file, onWarning, budget })) {
      const p = cleanPath(m.name);
      if (p !== undefined && p !== '') this.members.set(p, m);
    }
  }
  names(): string[] {
    return [...this.members.keys()];
  }
  has(path: string): boolean {
    const p = cleanPath(path);
    return p !== undefined && this.members.has(p);
  }
  get(path: string): Blob | undefined {
    let p = cleanPath(path);
    const chain: string[] = [];
    while (p !== undefined) {
      const m = this.members.get(p);
      if (!m) return undefined;
      if (m.type === 'file') return { source: sliceSource(this.src, m.dataOffset, m.size), path: p };
      if (m.type !== 'symlink' && m.type !== 'hardlink') return undefined;
      if (chain.includes(p) || chain.length >= MAX_LINK_HOPS) {
        throw new ArchiveError('BAD_MANIFEST', this.file, `links inside the archive form a cycle: ${[...chain, p].join(' -> ')}`);
      }
      chain.push(p);
      p = this.next(p, m);
    }
    return undefined;
  }
  /** A symlink target is relative to the link's directory; a hard link names a member. */
  private next(p: string, m: TarMember): string | undefined {
    if (m.type === 'hardlink') return cleanPath(m.linkname);
    return cleanPath(m.linkname.startsWith('/') ? m.linkname : posix.join(posix.dirname(p), m.linkname));
  }
}

/** A small JSON document (manifest, index, config) read whole, up to `limits.maxJsonBytes`. */
export function readBytes(blob: Blob, file: string, what: string, limits: Limits = DEFAULT_LIMITS): Buffer {
  if (blob.source.size > limits.maxJsonBytes) {
    throw limitError(file, '', `${what} (${blob.path}) is ${blob.source.size} bytes; JSON documents over ${formatBytes(limits.maxJsonBytes)} are refused`, 'maxJsonBytes');
  }
  return readAll(blob.source);
}

/**
 * How deeply arrays and objects nest in a JSON text, by one scan over its bytes (strings and their
 * escapes skipped), without parsing or recursing: the first depth past `limit` stops the scan.
 */
function jsonDepth(bytes: Buffer, limit: number): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === 0x22) {
      // A string: skip to its closing quote (a backslash escapes the next byte).
      for (i++; i < bytes.length && bytes[i] !== 0x22; i++) if (bytes[i] === 0x5c) i++;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return max;
}

/**
 * A JSON document, refused (LIMIT) when it nests deeper than `limits.maxJsonDepth`: the checks,
 * copies and commit that follow walk documents recursively, and a few thousand levels would
 * overflow the stack there (a RangeError instead of a typed error).
 */
export function parseJson(bytes: Buffer, file: string, what: string, limits: Limits = DEFAULT_LIMITS): unknown {
  if (jsonDepth(bytes, limits.maxJsonDepth) > limits.maxJsonDepth) {
    throw limitError(file, '', `${what} nests arrays and objects more than ${limits.maxJsonDepth} deep`, 'maxJsonDepth');
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new ArchiveError('BAD_MANIFEST', file, `${what} is not valid JSON: ${(e as Error).message}`);
  }
}
