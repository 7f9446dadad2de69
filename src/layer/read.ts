/**
 * One layer tar → `Entry[]` (the project's entry model), in archive order.
 *
 * Raw members become entries; whiteout markers become changes (`whiteout`, `opaque`), not files.
 * Hard links keep only the normalised path they point at: resolving them (also into lower layers,
 * OCI-11) happens when layers are stacked.
 */
import type { Entry, EntryType } from '../entry.js';
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from '../entry.js';
import { ArchiveError } from '../core/errors.js';
import type { ByteSource } from '../source.js';
import { memberContent, walkTar, type TarMember } from '../archive/tar-index.js';
import type { Budget } from '../archive/limits.js';

export interface ReadLayerOptions {
  /** The file named in errors and warnings. */
  file: string;
  /** Prefix for messages, e.g. "layer 2/3 (blobs/sha256/ab…): ". */
  context?: string;
  onWarning?: (message: string) => void;
  /** Limits (src/archive/limits.ts), shared by the layers of one image. */
  budget?: Budget;
  /** Receives each regular file's data offset in the tar (the open cache records it). */
  dataOffsets?: Map<Entry, number>;
}

/** Paths that are already normal: no leading '/' or './', no trailing '/', no '.', '..' or '//' parts. */
const NEEDS_WORK = /^\/|^\.\.?(?:\/|$)|\/\.\.?(?:\/|$)|\/\/|\/$/;

/**
 * OCI-12 path hygiene: `./x`, `x/`, `/x` and `x` are one key, `.` is the root ('').
 * `..` that climbs above the root is UNSAFE_PATH. An absolute name is read as relative to the
 * layer root, with a warning: that is what Docker, containerd and GNU tar (which strips the
 * leading '/') do, so refusing would reject images that real tools accept, while reading it
 * relative keeps it inside the root, which is the safety the rule is about.
 */
export function normalizeMemberPath(name: string, what: string, opts: ReadLayerOptions): string {
  // Fast path for what tar writes: `./dir/name` and `./dir/`.
  let path = name.charCodeAt(0) === 0x2e && name.charCodeAt(1) === 0x2f ? name.slice(2) : name;
  if (path.charCodeAt(path.length - 1) === 0x2f) path = path.slice(0, -1);
  return NEEDS_WORK.test(path) ? normalizeSlowly(name, what, opts) : path;
}

function normalizeSlowly(name: string, what: string, opts: ReadLayerOptions): string {
  const absolute = name.startsWith('/');
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) {
        throw new ArchiveError('UNSAFE_PATH', opts.file, `${opts.context ?? ''}${what} ${JSON.stringify(name)} climbs out of the layer root with '..'`);
      }
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  const path = parts.join('/');
  if (absolute) {
    opts.onWarning?.(`${opts.file}: ${opts.context ?? ''}${what} ${JSON.stringify(name)} is absolute; read as ${JSON.stringify(path || '.')} relative to the layer root`);
  }
  return path;
}

const TYPE_OF: Record<TarMember['type'], EntryType> = {
  file: 'file',
  hardlink: 'hardlink',
  symlink: 'symlink',
  char: 'char',
  block: 'block',
  dir: 'dir',
  fifo: 'fifo',
  unknown: 'file',
};

function baseEntry(m: TarMember, path: string, type: EntryType): Entry {
  return { path, type, mode: m.mode & 0o7777, uid: m.uid, gid: m.gid, mtime: m.mtime, size: 0 };
}

/** Converts one member; undefined for members that are metadata only (aufs `.wh..wh.*`). */
function toEntry(m: TarMember, src: ByteSource | undefined, opts: ReadLayerOptions, content?: ByteSource): Entry | undefined {
  const ctx = opts.context ?? '';
  const path = normalizeMemberPath(m.name, 'entry', opts);
  const slash = path.lastIndexOf('/');

  if (path.startsWith(WHITEOUT_PREFIX, slash + 1)) {
    const base = path.slice(slash + 1);
    const dir = slash < 0 ? '' : path.slice(0, slash);
    // OCI-7: the opaque marker is matched exactly BEFORE generic '.wh.' handling, else it would
    // read as a whiteout of a phantom '.wh..opq'.
    if (base === OPAQUE_MARKER) return baseEntry(m, dir, 'opaque');
    // OCI-8: other '.wh..wh.' names are aufs metadata (hard-link store, etc.), never user files.
    if (base.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) {
      opts.onWarning?.(`${opts.file}: ${ctx}aufs metadata entry ${JSON.stringify(m.name)} ignored (OCI-8)`);
      return undefined;
    }
    // OCI-5: '.wh.NAME' deletes NAME in lower layers. Its type, linkname and PAX linkpath are
    // leftovers of the producing tool and mean nothing. A bare '.wh.' would delete the directory
    // itself through a name that is empty: refused.
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') {
      throw new ArchiveError('BAD_WHITEOUT', opts.file, `${ctx}whiteout ${JSON.stringify(m.name)} names no file ('.wh.' must be followed by a name)`);
    }
    return baseEntry(m, dir === '' ? name : `${dir}/${name}`, 'whiteout');
  }

  const type = TYPE_OF[m.type];
  if (m.type === 'unknown') {
    // POSIX: an unknown typeflag is read as a regular file.
    opts.onWarning?.(`${opts.file}: ${ctx}entry ${JSON.stringify(m.name)} has unknown typeflag ${JSON.stringify(m.typeflag)}; read as a regular file`);
  }
  if (path === '' && type !== 'dir') {
    throw new ArchiveError('UNSAFE_PATH', opts.file, `${ctx}entry ${JSON.stringify(m.name)} is the layer root but is a ${type}, not a directory`);
  }
  if (type === 'file') {
    // One literal with every field a file has: no shape change after it is made (one entry per member).
    const f: Entry = { path, type, mode: m.mode & 0o7777, uid: m.uid, gid: m.gid, mtime: m.mtime, size: m.size, content: content ?? memberContent(src!, m) };
    opts.dataOffsets?.set(f, m.dataOffset);
    if (m.xattrs) f.xattrs = m.xattrs;
    return f;
  }
  const e = baseEntry(m, path, type);
  switch (type) {
    case 'hardlink':
      e.linkname = normalizeMemberPath(m.linkname, `hard link target of ${JSON.stringify(m.name)}:`, opts);
      if (e.linkname === '') throw new ArchiveError('BAD_LINK', opts.file, `${ctx}hard link ${JSON.stringify(m.name)} points at the layer root`);
      break;
    case 'symlink':
      e.linkname = m.linkname; // raw: symlink targets are resolved at lookup time, inside the root
      break;
    case 'char':
    case 'block':
    case 'fifo':
      e.devmajor = m.devmajor;
      e.devminor = m.devminor;
      break;
  }
  if (m.xattrs) e.xattrs = m.xattrs;
  return e;
}

/** Duplicate key: whiteouts and opaque markers never collide with the entries they sit beside (OCI-6). */
function keyOf(e: Entry): string {
  return e.type === 'whiteout' ? `w\0${e.path}` : e.type === 'opaque' ? `o\0${e.path}` : e.path;
}

/**
 * Raw members → entries, one at a time. OCI-10: a path given twice keeps the last entry, with a
 * warning.
 */
class EntryCollector {
  readonly out: Array<Entry | undefined> = [];
  private readonly seen = new Map<string, number>();
  private dropped = false;
  constructor(
    private readonly src: ByteSource | undefined,
    private readonly opts: ReadLayerOptions,
  ) {}

  /** `content`: the member's data when it is not in `src` (a zstd:chunked file read by its frames). */
  add(m: TarMember, content?: ByteSource): void {
    const e = toEntry(m, this.src, this.opts, content);
    if (!e) return;
    const key = keyOf(e);
    const prev = this.seen.get(key);
    if (prev !== undefined) {
      this.opts.onWarning?.(`${this.opts.file}: ${this.opts.context ?? ''}duplicate entry ${JSON.stringify(e.path || '.')} (${e.type}); the last one wins (OCI-10)`);
      this.out[prev] = undefined;
      this.dropped = true;
    }
    this.seen.set(key, this.out.length);
    this.out.push(e);
  }

  entries(): Entry[] {
    return this.dropped ? this.out.filter((e): e is Entry => e !== undefined) : (this.out as Entry[]);
  }
}

/** Indexes a layer tar and converts its members as they come (no member outlives its entry). */
export function readLayer(src: ByteSource, opts: ReadLayerOptions): Entry[] {
  const c = new EntryCollector(src, opts);
  walkTar(src, opts, (m) => c.add(m));
  return c.entries();
}

/**
 * A layer from members found elsewhere than in its tar (a zstd:chunked TOC), each with its data:
 * the same entries, whiteouts, opaque markers and duplicate rule as readLayer.
 */
export function readMembers(members: Iterable<{ member: TarMember; content?: ByteSource }>, opts: ReadLayerOptions): Entry[] {
  const c = new EntryCollector(undefined, opts);
  for (const { member, content } of members) c.add(member, content);
  return c.entries();
}
