/**
 * `UnionCore`: the syscalls of one overlay mount, over a flattened lower tree and an in-memory
 * writable layer. createFs() (src/fs) turns it into a Node `fs` object.
 */
import { constants as C } from 'node:fs';
import { statOrMissing, type Core, type DirEntryInfo, type StatFsInfo, type StatInfo } from '../core/core.js';
import { OVERLAYFS_SUPER_MAGIC, treeStatfs } from '../core/statfs-info.js';
import { fsError } from '../core/errors.js';
import type { Inode } from '../layer/inode.js';
import { copyUp } from './copy-up.js';
import { FileTable } from './files.js';
import * as ns from './namespace.js';
import { readdirInfo } from './readdir.js';
import { statOf } from './stat.js';
import { UnionState, type Obj, type UnionOptions } from './state.js';
import { inodeOf, lookup, walk, type Loc } from './walk.js';

export class UnionCore implements Core {
  readonly s: UnionState;
  readonly files: FileTable;

  constructor(lowerRoot: Inode, opts: UnionOptions = {}) {
    this.s = new UnionState(lowerRoot, opts);
    this.files = new FileTable(this.s);
  }

  stat(path: string, follow: boolean): StatInfo {
    return statOf(this.s, lookup(this.s, path, follow, follow ? 'stat' : 'lstat').node);
  }

  tryStat(path: string, follow: boolean): StatInfo | undefined {
    return statOrMissing(this.statOrCode(path, follow), follow ? 'stat' : 'lstat', path);
  }

  statOrCode(path: string, follow: boolean): StatInfo | string {
    const loc = walk(this.s, path, follow);
    if (typeof loc === 'string') return loc;
    if (!loc.node) return 'ENOENT';
    if (loc.slash && !inodeOf(loc.node).isDir) return 'ENOTDIR';
    return statOf(this.s, loc.node);
  }

  access(path: string, mode: number): void {
    const ino = inodeOf(lookup(this.s, path, true, 'access').node);
    if (mode & C.W_OK && this.s.readOnly) throw fsError('EROFS', 'access', path);
    // The view acts as root: only execute permission can be missing, on a non-directory.
    if (mode & C.X_OK && !ino.isDir && (ino.mode & 0o111) === 0) throw fsError('EACCES', 'access', path);
  }

  readdir(path: string): DirEntryInfo[] {
    const loc = lookup(this.s, path, true, 'scandir');
    if (!inodeOf(loc.node).isDir) throw fsError('ENOTDIR', 'scandir', path);
    return readdirInfo(this.s, loc.node);
  }

  mkdir(path: string, mode: number): void {
    ns.mkdir(this.s, path, mode);
  }
  rmdir(path: string): void {
    ns.rmdir(this.s, path);
  }
  unlink(path: string): void {
    ns.unlink(this.s, path);
  }
  rename(from: string, to: string): void {
    ns.rename(this.s, from, to);
  }
  symlink(target: string, path: string): void {
    ns.symlink(this.s, target, path);
  }
  link(existing: string, newPath: string): void {
    ns.link(this.s, existing, newPath);
  }

  readlink(path: string): string {
    const ino = inodeOf(lookup(this.s, path, false, 'readlink').node);
    if (ino.type !== 'symlink') throw fsError('EINVAL', 'readlink', path);
    return ino.target;
  }

  realpath(path: string): string {
    const loc = lookup(this.s, path, true, 'realpath');
    return '/' + loc.names.join('/');
  }

  /** OVL-6: metadata changes copy up (metadata only with the `metadata` strategy). */
  private attrTarget(path: string, follow: boolean, syscall: string): Inode {
    const loc = lookup(this.s, path, follow, syscall);
    if (this.s.readOnly) throw fsError('EROFS', syscall, path);
    return copyUp(this.s, loc, false);
  }

  chmod(path: string, mode: number, follow: boolean): void {
    setMode(this.attrTarget(path, follow, 'chmod'), mode);
  }
  chown(path: string, uid: number, gid: number, follow: boolean): void {
    setOwner(this.attrTarget(path, follow, follow ? 'chown' : 'lchown'), uid, gid);
  }
  utimes(path: string, atimeMs: number, mtimeMs: number, follow: boolean): void {
    setTimes(this.attrTarget(path, follow, follow ? 'utime' : 'lutime'), atimeMs, mtimeMs);
  }

  truncate(path: string, length: number): void {
    const loc = lookup(this.s, path, true, 'open');
    const ino = inodeOf(loc.node);
    if (ino.isDir) throw fsError('EISDIR', 'open', path);
    // Node truncates through open + ftruncate: the ftruncate error carries no path.
    if (length < 0 || ino.type !== 'file') throw fsError('EINVAL', 'ftruncate');
    if (this.s.readOnly) throw fsError('EROFS', 'open', path);
    const up = copyUp(this.s, loc as Loc & { node: Obj }, true, length === 0);
    up.data!.truncate(length);
    up.mtimeMs = up.ctimeMs = Date.now();
  }

  open(path: string, flags: number, mode: number): number {
    return this.files.open(path, flags, mode);
  }
  close(fd: number): void {
    this.files.close(fd);
  }
  read(fd: number, b: Uint8Array, o: number, l: number, p: number | null): number {
    return this.files.read(fd, b, o, l, p);
  }
  write(fd: number, b: Uint8Array, o: number, l: number, p: number | null): number {
    return this.files.write(fd, b, o, l, p);
  }
  fstat(fd: number): StatInfo {
    return statOf(this.s, this.files.ref(fd, 'fstat', true));
  }
  ftruncate(fd: number, length: number): void {
    this.files.ftruncate(fd, length);
  }
  fchmod(fd: number, mode: number): void {
    setMode(inodeOf(this.files.upperOf(fd, 'fchmod')), mode);
  }
  fchown(fd: number, uid: number, gid: number): void {
    setOwner(inodeOf(this.files.upperOf(fd, 'fchown')), uid, gid);
  }
  futimes(fd: number, a: number, m: number): void {
    setTimes(inodeOf(this.files.upperOf(fd, 'futime')), a, m);
  }
  fsync(fd: number): void {
    this.files.ref(fd, 'fsync');
  }
  /** An overlay mount's statfs: the view's own sizes (see src/fs/statfs.ts). */
  statfs(): StatFsInfo {
    return treeStatfs(this, OVERLAYFS_SUPER_MAGIC);
  }
}

function setMode(ino: Inode, mode: number): void {
  ino.mode = mode & 0o7777;
  ino.ctimeMs = Date.now();
}

function setOwner(ino: Inode, uid: number, gid: number): void {
  if (uid === -1 && gid === -1) return;
  if (uid !== -1) ino.uid = uid;
  if (gid !== -1) ino.gid = gid;
  // Linux clears setuid (and setgid when group-executable) on chown of a non-directory, even for root.
  if (!ino.isDir && ino.type !== 'symlink') ino.mode &= ino.mode & 0o010 ? ~0o6000 : ~0o4000;
  ino.ctimeMs = Date.now();
}

function setTimes(ino: Inode, atimeMs: number, mtimeMs: number): void {
  ino.atimeMs = atimeMs;
  ino.mtimeMs = mtimeMs;
  ino.ctimeMs = Date.now();
}
