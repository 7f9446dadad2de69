/**
 * `MountCore`: one container's filesystem. Each call is resolved across the mount table (see
 * locate.ts) and handed to the core of the mount that holds the object, with the path inside that
 * mount. Errors carry the caller's path. A mount point cannot be removed or renamed (EBUSY); a
 * rename or link between two mounts is EXDEV; a read-only mount (`:ro`, `--read-only` root)
 * refuses changes with EROFS after the lookups the kernel makes first. With an event log (the
 * union's, see src/union/events.ts), every write is recorded with the mount that took it.
 */
import { constants as C } from 'node:fs';
import { DescriptorTable } from '../core/descriptors.js';
import { O_PATH, pathOnly } from '../core/flags.js';
import { openFollow, type Follow } from '../core/path-rules.js';
import { FsError, fsError } from '../core/errors.js';
import { statOrMissing, type Core, type DirEntryInfo, type StatFsInfo, type StatInfo } from '../core/core.js';
import { treeStatfs } from '../core/statfs-info.js';
import { locate, type Located } from './locate.js';
import type { Mount, MountTable } from './table.js';
import type { EventLog } from '../union/events.js';

interface OpenFile {
  mount: Mount;
  fd: number;
  /** Canonical container path, for the event log. */
  path: string;
}

const isDirSt = (st: StatInfo | undefined): boolean => st !== undefined && (st.mode & C.S_IFMT) === C.S_IFDIR;

export class MountCore implements Core {
  /** Each descriptor holds the mount and that core's own descriptor, never a path. */
  private readonly files = new DescriptorTable<OpenFile>();
  /** Where writes are recorded (set by the container that owns the log). */
  events?: EventLog;

  constructor(readonly table: MountTable) {}

  /** Runs an inner call, giving its error the caller's path(s). */
  private run<T>(syscall: string, path: string, dest: string | undefined, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof FsError) throw fsError(e.code, e.syscall || syscall, path, dest);
      throw e;
    }
  }

  private at(path: string, follow: Follow, syscall: string, dest?: string): Located {
    const loc = locate(this.table, path, follow);
    if (typeof loc === 'string') throw fsError(loc, syscall, path, dest);
    return loc;
  }

  private existing(path: string, follow: boolean, syscall: string): Located & { st: StatInfo } {
    const loc = this.at(path, follow, syscall);
    if (!loc.st) throw fsError('ENOENT', syscall, path);
    if (loc.slash && (loc.st.mode & C.S_IFMT) !== C.S_IFDIR) throw fsError('ENOTDIR', syscall, path);
    return loc as Located & { st: StatInfo };
  }

  private writable(loc: Located, syscall: string, path: string, dest?: string): void {
    if (loc.mount.readOnly) throw fsError('EROFS', syscall, path, dest);
  }

  /** Where a path is served from: the mount and the path inside it (for `where`). */
  where(path: string): Located {
    return this.at(path, true, 'stat');
  }

  stat(path: string, follow: boolean): StatInfo {
    return this.existing(path, follow, follow ? 'stat' : 'lstat').st;
  }

  tryStat(path: string, follow: boolean): StatInfo | undefined {
    return statOrMissing(this.statOrCode(path, follow), follow ? 'stat' : 'lstat', path);
  }

  statOrCode(path: string, follow: boolean): StatInfo | string {
    const loc = locate(this.table, path, follow);
    if (typeof loc === 'string') return loc;
    if (!loc.st) return 'ENOENT';
    if (loc.slash && (loc.st.mode & C.S_IFMT) !== C.S_IFDIR) return 'ENOTDIR';
    return loc.st;
  }

  access(path: string, mode: number): void {
    const loc = this.existing(path, true, 'access');
    if (mode & C.W_OK) this.writable(loc, 'access', path);
    this.run('access', path, undefined, () => loc.mount.core.access(loc.rel, mode));
  }

  readdir(path: string): DirEntryInfo[] {
    const loc = this.existing(path, true, 'scandir');
    return this.run('scandir', path, undefined, () => loc.mount.core.readdir(loc.rel));
  }

  mkdir(path: string, mode: number): void {
    const loc = this.at(path, 'never', 'mkdir');
    if (loc.st) throw fsError('EEXIST', 'mkdir', path);
    this.writable(loc, 'mkdir', path);
    this.run('mkdir', path, undefined, () => loc.mount.core.mkdir(loc.rel, mode));
  }

  rmdir(path: string): void {
    const loc = this.at(path, 'never', 'rmdir');
    // A mount point is busy; a file mount point is first no directory (Linux: ENOTDIR).
    if (this.table.isMountPoint(loc.parts) && !loc.dots) throw fsError(isDirSt(loc.st) ? 'EBUSY' : 'ENOTDIR', 'rmdir', path);
    this.writable(loc, 'rmdir', path);
    this.run('rmdir', path, undefined, () => loc.mount.core.rmdir(loc.rel + (loc.dots ? '/' + loc.dots : '')));
  }

  unlink(path: string): void {
    const loc = this.at(path, 'never', 'unlink');
    // Linux checks "is a directory" before "is a mount point": EBUSY only for a file mount point.
    if (this.table.isMountPoint(loc.parts)) throw fsError(loc.dots || isDirSt(loc.st) ? 'EISDIR' : 'EBUSY', 'unlink', path);
    this.writable(loc, 'unlink', path);
    this.run('unlink', path, undefined, () => loc.mount.core.unlink(loc.rel + (loc.slash ? '/' : '')));
  }

  rename(from: string, to: string): void {
    const src = this.at(from, 'never', 'rename', to);
    const dst = this.at(to, 'never', 'rename', to);
    if (this.table.isMountPoint(src.parts) || this.table.isMountPoint(dst.parts)) throw fsError('EBUSY', 'rename', from, to);
    this.writable(src, 'rename', from, to);
    this.writable(dst, 'rename', from, to);
    if (!src.st) throw fsError('ENOENT', 'rename', from, to);
    // A rename never crosses a mount: mv(1) falls back to copy and delete, as with overlayfs' EXDEV.
    if (src.mount !== dst.mount) throw fsError('EXDEV', 'rename', from, to);
    // The core gets both spellings' ends: 'file/' is ENOTDIR, 'dir/.' and 'dir/..' are EBUSY (rename(2)).
    const end = (loc: Located): string => (loc.dots ? `/${loc.dots}` : loc.slash ? '/' : '');
    this.run('rename', from, to, () => src.mount.core.rename(src.rel + end(src), dst.rel + end(dst)));
  }

  symlink(target: string, path: string): void {
    const loc = this.at(path, 'never', 'symlink');
    if (loc.st) throw fsError('EEXIST', 'symlink', target, path);
    this.writable(loc, 'symlink', target, path);
    this.run('symlink', target, path, () => loc.mount.core.symlink(target, loc.rel + (loc.slash ? '/' : '')));
  }

  readlink(path: string): string {
    const loc = this.existing(path, false, 'readlink');
    return this.run('readlink', path, undefined, () => loc.mount.core.readlink(loc.rel));
  }

  link(existing: string, newPath: string): void {
    const src = this.existing(existing, false, 'link');
    const dst = this.at(newPath, 'never', 'link');
    if (dst.st) throw fsError('EEXIST', 'link', existing, newPath);
    this.writable(dst, 'link', existing, newPath);
    if (src.mount !== dst.mount) throw fsError('EXDEV', 'link', existing, newPath);
    this.run('link', existing, newPath, () => src.mount.core.link(src.rel, dst.rel + (dst.slash ? '/' : '')));
  }

  chmod(path: string, mode: number, follow: boolean): void {
    const loc = this.existing(path, follow, 'chmod');
    this.writable(loc, 'chmod', path);
    this.run('chmod', path, undefined, () => loc.mount.core.chmod(loc.rel, mode, false));
  }

  chown(path: string, uid: number, gid: number, follow: boolean): void {
    const syscall = follow ? 'chown' : 'lchown';
    const loc = this.existing(path, follow, syscall);
    this.writable(loc, syscall, path);
    this.run(syscall, path, undefined, () => loc.mount.core.chown(loc.rel, uid, gid, false));
  }

  utimes(path: string, atimeMs: number, mtimeMs: number, follow: boolean): void {
    const syscall = follow ? 'utime' : 'lutime';
    const loc = this.existing(path, follow, syscall);
    this.writable(loc, syscall, path);
    this.run(syscall, path, undefined, () => loc.mount.core.utimes(loc.rel, atimeMs, mtimeMs, false));
  }

  truncate(path: string, length: number): void {
    const loc = this.existing(path, true, 'open');
    this.writable(loc, 'open', path);
    this.run('open', path, undefined, () => loc.mount.core.truncate(loc.rel, length));
  }

  realpath(path: string): string {
    return '/' + this.existing(path, true, 'realpath').parts.join('/');
  }

  /** open(2); with O_PATH (OVL-24) only O_NOFOLLOW and O_DIRECTORY count, and nothing changes. */
  open(path: string, flags: number, mode: number): number {
    if (flags & O_PATH) flags = pathOnly(flags);
    const excl = (flags & C.O_CREAT) !== 0 && (flags & C.O_EXCL) !== 0;
    const loc = this.at(path, openFollow(flags), 'open');
    const changes = (flags & 3) !== C.O_RDONLY || (flags & C.O_TRUNC) !== 0 || (!loc.st && (flags & C.O_CREAT) !== 0);
    if (changes && !(excl && loc.st)) this.writable(loc, 'open', path);
    // A last '.' or '..' (already taken) reaches the core as 'dir/.': O_CREAT|O_EXCL is EEXIST there.
    const rel = loc.rel + (loc.dots ? '/.' : loc.slash ? '/' : '');
    const fd = this.run('open', path, undefined, () => loc.mount.core.open(rel, flags, mode));
    return this.files.add({ mount: loc.mount, fd, path: '/' + loc.parts.join('/') });
  }

  private file(fd: number, syscall: string): OpenFile {
    return this.files.get(fd, syscall);
  }

  close(fd: number): void {
    const f = this.files.remove(fd);
    f.mount.core.close(f.fd);
  }
  read(fd: number, b: Uint8Array, o: number, l: number, p: number | null): number {
    const f = this.file(fd, 'read');
    return f.mount.core.read(f.fd, b, o, l, p);
  }
  write(fd: number, b: Uint8Array, o: number, l: number, p: number | null): number {
    const f = this.file(fd, 'write');
    const n = f.mount.core.write(f.fd, b, o, l, p);
    const m = f.mount;
    this.events?.write(f.path, n, m.target, m.kind, m.kind !== 'layer' ? m.source : undefined);
    return n;
  }
  fstat(fd: number): StatInfo {
    const f = this.file(fd, 'fstat');
    return f.mount.core.fstat(f.fd);
  }
  ftruncate(fd: number, length: number): void {
    const f = this.file(fd, 'ftruncate');
    f.mount.core.ftruncate(f.fd, length);
  }
  fchmod(fd: number, mode: number): void {
    const f = this.file(fd, 'fchmod');
    if (f.mount.readOnly) throw fsError('EROFS', 'fchmod');
    f.mount.core.fchmod(f.fd, mode);
  }
  fchown(fd: number, uid: number, gid: number): void {
    const f = this.file(fd, 'fchown');
    if (f.mount.readOnly) throw fsError('EROFS', 'fchown');
    f.mount.core.fchown(f.fd, uid, gid);
  }
  futimes(fd: number, a: number, m: number): void {
    const f = this.file(fd, 'futime');
    if (f.mount.readOnly) throw fsError('EROFS', 'futime');
    f.mount.core.futimes(f.fd, a, m);
  }
  fsync(fd: number): void {
    const f = this.file(fd, 'fsync');
    f.mount.core.fsync(f.fd);
  }

  /** The statfs of the mount holding the object (its core's own answer). */
  statfs(path: string): StatFsInfo {
    const loc = this.existing(path, true, 'statfs');
    const core = loc.mount.core;
    return this.run('statfs', path, undefined, () => (core.statfs ? core.statfs(loc.rel) : treeStatfs(core, 0)));
  }
}
