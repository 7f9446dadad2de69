/**
 * One layer's changes as a tree: directories with name tables that may hold whiteouts, opaque
 * flags, and inodes shared between hard-linked names. This is what overlayfs would see as one
 * lowerdir. Entries come in archive order; the rules below make the result order-independent.
 */
import type { Entry } from '../entry.js';
import { ArchiveError } from '../core/errors.js';
import { LowerData } from './data.js';
import { Inode, WHITEOUT, isWhiteout, makedev, type Child } from './inode.js';

export interface LayerTree {
  index: number;
  /** Where the layer came from, for error messages. */
  file: string;
  root: Inode;
  /** Hard links whose target is not in this layer: bound to the lower inode when stacked. */
  pendingLinks: Array<{ dir: Inode; name: string; target: string }>;
  /** Whether the layer has a whiteout or an opaque marker: only then has its tree any. */
  marked: boolean;
}

/**
 * OCI-14: parents missing from the archive are created as 0755 root-owned directories, unless a
 * lower layer has the directory: then its attributes stay (as extracting onto the lower tree, or
 * applying the layer through an overlay mount, leaves them).
 */
function implicitDir(index: number): Inode {
  const d = new Inode('dir', 0o755, 0, 0, 0, index);
  d.implicit = true;
  return d;
}

function split(path: string): string[] {
  return path === '' ? [] : path.split('/');
}

/**
 * The layer's directories by path, so that an entry finds its parent with one lookup instead of a
 * walk from the root (entries come in archive order, parents mostly first). A name that held a
 * directory and is re-bound (a later entry replaced it) empties the cache: paths below it are stale.
 */
class Dirs {
  private readonly byPath = new Map<string, Inode>();
  constructor(
    private readonly root: Inode,
    private readonly index: number,
  ) {}

  /** The directory holding `path` (whose last '/' is at `slash`), creating implicit parents. */
  parentOf(path: string, slash: number): Inode {
    if (slash < 0) return this.root;
    const dirPath = path.slice(0, slash);
    return this.byPath.get(dirPath) ?? this.walk(dirPath);
  }

  /** Walks to the directory `dirPath`, creating implicit parents. A non-dir parent is replaced. */
  private walk(dirPath: string): Inode {
    let dir = this.root;
    for (const part of dirPath.split('/')) {
      const c = dir.children!.get(part);
      if (c && !isWhiteout(c) && c.isDir) {
        dir = c;
        continue;
      }
      const d = implicitDir(this.index);
      // A whiteout beside a directory of the same layer means "lower copy deleted": opaque (OCI-6).
      if (isWhiteout(c)) d.opaque = true;
      dir.children!.set(part, d);
      dir = d;
    }
    this.byPath.set(dirPath, dir);
    return dir;
  }

  /** Binds `name` in `dir` (undefined deletes it), keeping the cache true. */
  bind(dir: Inode, name: string, child: Child | undefined, path: string): void {
    const old = dir.children!.get(name);
    if (old !== undefined && old !== child && !isWhiteout(old) && old.isDir) this.byPath.clear();
    if (child === undefined) dir.children!.delete(name);
    else dir.children!.set(name, child);
    if (child !== undefined && !isWhiteout(child) && child.isDir) this.byPath.set(path, child);
  }
}

/** Finds a non-directory by its plain path (no symlinks: hard-link targets are literal paths). */
export function findPlain(root: Inode, path: string): Inode | undefined {
  let node: Inode | undefined = root;
  for (const part of split(path)) {
    const c: Inode | typeof WHITEOUT | undefined = node?.children?.get(part);
    if (!c || isWhiteout(c)) return undefined;
    node = c;
  }
  return node;
}

function inodeFor(e: Entry, index: number): Inode {
  const type = e.type === 'hardlink' || e.type === 'whiteout' || e.type === 'opaque' ? 'file' : e.type;
  const ino = new Inode(type, e.mode & 0o7777, e.uid, e.gid, e.mtime, index);
  if (type === 'file') ino.data = new LowerData(e.content ?? { size: 0, read: () => 0 });
  if (type === 'symlink') ino.target = e.linkname ?? '';
  if (type === 'char' || type === 'block') ino.rdev = makedev(e.devmajor ?? 0, e.devminor ?? 0);
  if (e.xattrs) ino.xattrs = new Map(Object.entries(e.xattrs));
  return ino;
}

export function buildLayer(entries: Entry[], index: number, file: string): LayerTree {
  const root = implicitDir(index);
  const tree: LayerTree = { index, file, root, pendingLinks: [], marked: false };
  const dirs = new Dirs(root, index);
  for (const e of entries) {
    const path = e.path;
    // Every whiteout in the tree, and every opaque flag, comes from one of these two entries.
    if (e.type === 'whiteout' || e.type === 'opaque') tree.marked = true;
    if (path === '') {
      if (e.type === 'dir') setAttrs(root, e);
      else if (e.type === 'opaque') root.opaque = true;
      // Anything else at the root is refused by the reader (OCI-12); ignore it here.
      continue;
    }
    const slash = path.lastIndexOf('/');
    const dir = dirs.parentOf(path, slash);
    const name = slash < 0 ? path : path.slice(slash + 1);
    const existing = dir.children!.get(name);
    switch (e.type) {
      case 'opaque': {
        const d = existing && !isWhiteout(existing) && existing.isDir ? existing : implicitDir(index);
        d.opaque = true;
        dirs.bind(dir, name, d, path);
        break;
      }
      case 'whiteout':
        // OCI-6: a whiteout never hides an entry of its own layer. Beside a directory of this
        // layer it still deletes the lower copy: that directory becomes opaque.
        if (!existing) dir.children!.set(name, WHITEOUT);
        else if (!isWhiteout(existing) && existing.isDir) existing.opaque = true;
        break;
      case 'dir':
        if (existing && !isWhiteout(existing) && existing.isDir) setAttrs(existing, e);
        else {
          const d = inodeFor(e, index);
          if (isWhiteout(existing)) d.opaque = true;
          dirs.bind(dir, name, d, path);
        }
        break;
      case 'hardlink': {
        const target = findPlain(root, e.linkname ?? '');
        if (target?.isDir) {
          throw new ArchiveError('BAD_LINK', file, `layer ${index + 1}: hard link ${e.path} points at directory ${e.linkname}`);
        }
        if (target) {
          target.nlink++;
          dirs.bind(dir, name, target, path);
        } else {
          dirs.bind(dir, name, undefined, path);
          tree.pendingLinks.push({ dir, name, target: e.linkname ?? '' });
        }
        break;
      }
      default:
        // OCI-10: a duplicate path replaces the earlier entry (last wins, as tar extracts it).
        dirs.bind(dir, name, inodeFor(e, index), path);
    }
  }
  return tree;
}

function setAttrs(d: Inode, e: Entry): void {
  d.implicit = false;
  d.mode = e.mode & 0o7777;
  d.uid = e.uid;
  d.gid = e.gid;
  d.mtimeMs = d.atimeMs = d.ctimeMs = e.mtime;
  d.xattrs = e.xattrs ? new Map(Object.entries(e.xattrs)) : undefined;
}
