/**
 * The syscall layer every core implements (the union view, a container's mount router, host
 * directories, memfs), below the Node-compatible `fs` object: `createFs(core)` (src/fs/node-fs.ts)
 * turns a Core into `fs`, `fs.promises` and streams.
 *
 * Every path given to a Core method is absolute inside the view ('/' is the view's root) and not
 * normalised: the core resolves '.', '..' and symlinks component by component, as the kernel does.
 * Every failure is thrown as an `FsError` with the syscall name Node would use.
 */
import { constants } from 'node:fs';
import type { FileType } from '../entry.js';
import { fsError } from './errors.js';

const OPEN_RDWR = constants.O_RDWR;

export interface StatInfo {
  dev: number;
  ino: number;
  /** Full st_mode: file-type bits | permission bits. */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
}

/** The StatInfo fields of a stat-shaped object (Node's Stats, memfs's), copied: nothing else is kept. */
export function statInfoOf(st: StatInfo): StatInfo {
  return {
    dev: st.dev,
    ino: st.ino,
    mode: st.mode,
    nlink: st.nlink,
    uid: st.uid,
    gid: st.gid,
    rdev: st.rdev,
    size: st.size,
    blksize: st.blksize,
    blocks: st.blocks,
    atimeMs: st.atimeMs,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    birthtimeMs: st.birthtimeMs,
  };
}

/** What statfs(2) reports of a filesystem (see src/core/statfs-info.ts for what a view reports). */
export interface StatFsInfo {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

export interface DirEntryInfo {
  name: string;
  type: FileType;
}

export interface Core {
  stat(path: string, follow: boolean): StatInfo;
  /** Returns undefined instead of throwing ENOENT/ENOTDIR (for exists and throwIfNoEntry:false). */
  tryStat(path: string, follow: boolean): StatInfo | undefined;
  /**
   * Optional fast path for `statSync(p, { throwIfNoEntry: false })`: the stat, or the errno code
   * of the failure, without building an Error (that costs more than the lookup itself).
   */
  statOrCode?(path: string, follow: boolean): StatInfo | string;
  access(path: string, mode: number): void;
  /** syscall 'scandir'. Merged and de-duplicated; never lists whiteouts. */
  readdir(path: string): DirEntryInfo[];
  mkdir(path: string, mode: number): void;
  rmdir(path: string): void;
  unlink(path: string): void;
  rename(from: string, to: string): void;
  symlink(target: string, path: string): void;
  readlink(path: string): string;
  link(existing: string, newPath: string): void;
  chmod(path: string, mode: number, follow: boolean): void;
  chown(path: string, uid: number, gid: number, follow: boolean): void;
  utimes(path: string, atimeMs: number, mtimeMs: number, follow: boolean): void;
  truncate(path: string, length: number): void;
  realpath(path: string): string;

  /** flags are Node's numeric O_* flags (fs.constants). Returns a descriptor number. */
  open(path: string, flags: number, mode: number): number;
  close(fd: number): void;
  /** position null means the descriptor's current position (and advances it). */
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  fstat(fd: number): StatInfo;
  ftruncate(fd: number, length: number): void;
  fchmod(fd: number, mode: number): void;
  fchown(fd: number, uid: number, gid: number): void;
  futimes(fd: number, atimeMs: number, mtimeMs: number): void;
  fsync(fd: number): void;
  /**
   * statfs(2) of the filesystem holding `path` (which exists, links followed). Optional: without
   * it, createFs reports the view's own sizes (src/fs/statfs.ts, type 0).
   */
  statfs?(path: string): StatFsInfo;
}

/** A stat that answers undefined for a missing object (ENOENT, or ENOTDIR on the way), as tryStat does. */
export function orMissing(stat: () => StatInfo): StatInfo | undefined {
  try {
    return stat();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** What a directory entry reports about itself: Node's Dirent and memfs's answer alike. */
export interface DirentLike {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isBlockDevice(): boolean;
  isCharacterDevice(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
}

export function direntType(d: DirentLike): FileType {
  if (d.isDirectory()) return 'dir';
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isBlockDevice()) return 'block';
  if (d.isCharacterDevice()) return 'char';
  if (d.isFIFO()) return 'fifo';
  if (d.isSocket()) return 'socket';
  return 'file';
}

/** truncate(2) as Node does it: open r+ and ftruncate (EISDIR or EROFS from open, EINVAL from ftruncate). */
export function truncateByOpen(core: Core, path: string, length: number): void {
  const fd = core.open(path, OPEN_RDWR, 0);
  try {
    core.ftruncate(fd, length);
  } finally {
    core.close(fd);
  }
}

/** tryStat from statOrCode: undefined for a missing object, the error for anything else. */
export function statOrMissing(r: StatInfo | string, syscall: string, path: string): StatInfo | undefined {
  if (typeof r !== 'string') return r;
  if (r === 'ENOENT' || r === 'ENOTDIR') return undefined;
  throw fsError(r, syscall, path);
}
