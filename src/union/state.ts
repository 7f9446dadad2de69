/**
 * The state of one union view: the flattened lower tree, the writable layer, options and counters.
 * The syscalls live in the files beside this one and all work on a `UnionState`.
 */
import type { Entry } from '../entry.js';
import { buildLayer } from '../layer/build.js';
import { ChunkedData, LowerData } from '../layer/data.js';
import { ArchiveError } from '../core/errors.js';
import { Inode, UPPER, isWhiteout } from '../layer/inode.js';
import { EventLog } from './events.js';
import { SPILL_DEFAULT, SpillStore } from '../layer/spill-store.js';
import type { WalkOps } from '../core/walk.js';

/**
 * A saved writable layer becomes the upper tree again: the same shape as a layer (whiteouts,
 * opaque directories, shared inodes for hard links), with every object marked as upper and file
 * data made writable without copying it (chunks over the saved bytes). Its root entry keeps the
 * root's attributes (OVL-26); a layer saved without one takes the image root's.
 */
function restoreUpper(entries: Entry[], lowerRoot: Inode): Inode {
  const tree = buildLayer(entries, UPPER, 'the saved writable layer');
  const dangling = tree.pendingLinks[0];
  if (dangling) throw new ArchiveError('BAD_LINK', 'the saved writable layer', `hard link ${dangling.name} points at ${dangling.target}, which it does not hold`);
  const seen = new Set<Inode>();
  const mark = (dir: Inode): void => {
    dir.layer = UPPER;
    for (const c of dir.children!.values()) {
      if (isWhiteout(c) || seen.has(c)) continue;
      seen.add(c);
      c.layer = UPPER;
      c.implicit = false;
      if (c.data instanceof LowerData) c.data = new ChunkedData(c.data);
      if (c.isDir) mark(c);
    }
  };
  mark(tree.root);
  if (tree.root.implicit) {
    Object.assign(tree.root, { mode: lowerRoot.mode, uid: lowerRoot.uid, gid: lowerRoot.gid, mtimeMs: lowerRoot.mtimeMs, implicit: false });
  }
  tree.root.ino = lowerRoot.ino;
  return tree.root;
}

export type CopyUpStrategy = 'full' | 'metadata' | 'chunked';

export interface UnionOptions {
  /** No writable layer: every mutation is EROFS (OVL-18). */
  readOnly?: boolean;
  /** full (overlayfs default), metadata (metacopy=on), chunked (only written extents). */
  copyUp?: CopyUpStrategy;
  /** redirect_dir=on: lower directories can be renamed (OVL-13). Default off: EXDEV (OVL-12). */
  redirectDir?: boolean;
  /** index=on: copy-up keeps hard links together (OVL-15). Default off: copy-up breaks them. */
  index?: boolean;
  /** Applied to the mode of every object created through the view, like a process umask. */
  umask?: number;
  /** Symlinks followed in one lookup before ELOOP (default 40, Linux's MAXSYMLINKS). */
  maxSymlinkHops?: number;
  /**
   * A writable layer saved earlier (a container's layer, as `upperEntries()` gave it): the view
   * starts with it instead of an empty one. Its file data is read on demand and written as chunks.
   */
  upper?: Entry[];
  /**
   * Bytes of file data the writable layer keeps in memory (default 8 MiB); data beyond goes to
   * anonymous scratch files in the temp dir (src/layer/spill-store.ts). Infinity: never.
   */
  spill?: number;
}

export interface CopyUpStats {
  /** Objects copied up (directories included). */
  copyUps: number;
  /** Bytes of file data copied from lower layers to the writable layer. */
  copyUpBytes: number;
}

/** A name as the union sees it: the upper copy, the lower copy, or both (a merged directory). */
export interface Obj {
  upper?: Inode;
  lower?: Inode;
}

/**
 * What an open descriptor refers to: the object (its upper and lower inodes), like the kernel's
 * open file pins its dentry. Copy-up of the same object re-points it (OVL-8). While the object is
 * only in a lower layer, `path` is where its name is now (rename moves it, see moveRefs) because a
 * later copy-up goes there; `gone` says its name was removed (unlink, rmdir, rename over it).
 */
export interface Ref extends Obj {
  path: string;
  gone?: boolean;
}

export class UnionState {
  readonly upperRoot?: Inode;
  readonly strategy: CopyUpStrategy;
  readonly redirectDir: boolean;
  readonly index: boolean;
  readonly umask: number;
  readonly maxHops: number;
  readonly stats: CopyUpStats = { copyUps: 0, copyUpBytes: 0 };
  /** What happened, event by event: copy-ups, whiteouts, opaque directories, writes (events.ts). */
  readonly log = new EventLog();
  /** index=on: lower inode → its upper copy, shared by every name of it (OVL-15). */
  readonly indexed = new Map<Inode, Inode>();
  /** Descriptors still reading a lower inode: re-pointed when that object is copied up. */
  readonly lowerRefs = new Set<Ref>();
  readonly dev = 0x4c46; // "LF": one device number for the whole view
  /** Where the writable layer's file data goes beyond its memory budget. */
  readonly spill: SpillStore;
  /** The union's part of the path walk (walk.ts), made on the first walk. */
  walkOps?: WalkOps<Obj>;

  constructor(
    readonly lowerRoot: Inode,
    opts: UnionOptions = {},
  ) {
    this.strategy = opts.copyUp ?? 'full';
    this.redirectDir = opts.redirectDir ?? false;
    this.index = opts.index ?? false;
    this.umask = opts.umask ?? 0o022;
    this.maxHops = opts.maxSymlinkHops ?? 40;
    this.spill = new SpillStore(opts.spill ?? SPILL_DEFAULT);
    if (opts.upper) this.upperRoot = restoreUpper(opts.upper, lowerRoot);
    else if (!opts.readOnly) {
      // OVL-26: the writable layer's root is made with the view, as podman makes a container's
      // upperdir: the mode and owner of the image's root, the time of creation. The merged root
      // shows it (OVL-2: nlink 1, merged).
      const root = new Inode('dir', lowerRoot.mode, lowerRoot.uid, lowerRoot.gid, Date.now(), UPPER);
      root.ino = lowerRoot.ino;
      this.upperRoot = root;
    }
  }

  get readOnly(): boolean {
    return this.upperRoot === undefined;
  }

  get root(): Obj {
    return { upper: this.upperRoot, lower: this.lowerRoot };
  }

  /** A name went away: descriptors still on a lower object there, or below it, lose their name. */
  dropRefs(path: string): void {
    for (const ref of this.lowerRefs) {
      if (ref.path === path || ref.path.startsWith(`${path}/`)) {
        ref.gone = true;
        this.lowerRefs.delete(ref);
      }
    }
  }

  /** A name moved (rename): descriptors on lower objects at or below it follow it. */
  moveRefs(from: string, to: string): void {
    for (const ref of this.lowerRefs) {
      if (ref.path === from) ref.path = to;
      else if (ref.path.startsWith(`${from}/`)) ref.path = to + ref.path.slice(from.length);
    }
  }
}
