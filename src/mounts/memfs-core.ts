/**
 * `MemfsCore`: the Core syscalls over a memfs `Volume` (for tmpfs mounts, in-memory volumes and
 * host trees loaded into memory). Descriptor numbers are memfs's own; memfs errors become
 * `FsError`s with Node's syscall name and the caller's path(s).
 *
 * Paths are resolved here, one component at a time as the kernel does (symlinks followed in every
 * directory part, '..' taken physically after a link, at most 40 links), and memfs is handed only
 * the resulting symlink-free paths. The checks a syscall makes on what it finds (EEXIST, EISDIR,
 * ENOTDIR, EPERM...) are made here too, so memfs's departures from Linux are corrected. Each is
 * marked "memfs deviation"; test/memfs-deviations.test.ts shows the raw memfs behaviour, so a
 * correction can go once memfs is fixed. In short, memfs 4:
 * - does not follow a symlink in the parent part of mkdir, symlink, link and rename paths, and
 *   takes '..' lexically ('link/..' is the link's parent, not its target's);
 * - ignores the umask (this core applies `umask`, default 0o022);
 * - accepts a trailing slash on a non-directory; creates 'new/' for symlink and link;
 * - unlinks a directory as EPERM (Linux: EISDIR), hard-links directories (Linux: EPERM);
 * - renames a file over a directory, a directory over a file, over a non-empty directory or into
 *   itself (Linux: EISDIR, ENOTDIR, ENOTEMPTY, EINVAL); renaming a symlink renames its target;
 *   an object replaced by rename keeps its link count;
 * - reads and writes through descriptors against their access mode, reads a directory as empty;
 * - shows a symlink as mode 0o120666 and size 0 (Linux: 0o120777, the target's length);
 * - starts the root directory at nlink 6 (Linux: 2 + subdirectories);
 * - stores chown's -1 instead of keeping the id, and keeps setuid/setgid on chown;
 * - stamps mtime on chmod and chown (Linux: ctime only); the old atime and mtime are put back;
 * - applies permission bits to root: each inode of the volume gets root's override (root may
 *   read and write anything and search any directory; executing a file needs an x bit),
 *   installed through memfs's public Superblock (`vol._core`: inodes, createNode);
 * - ignores a setgid directory (its new entries take its group, new directories its setgid bit);
 * - reports st_dev 0 for everything: each MemfsCore reports a device number of its own, nonzero
 *   (a kernel never gives 0, and Node's cp treats 0 as "not the same file": cpSync(f, f) would
 *   unlink f, then fail to copy it).
 *
 * Not corrected, so visible to callers: times are kept in whole milliseconds (Linux keeps
 * nanoseconds, utimes sets microseconds); directories report size 0. memfs has no
 * device nodes, FIFOs, sockets or extended attributes (the Core interface asks for none of them).
 */
import { runCoded } from './coded.js';
import { Buffer } from 'node:buffer';
import { constants as C } from 'node:fs';
import type { Volume } from 'memfs';
import { direntType, orMissing, statInfoOf, truncateByOpen, type Core, type DirentLike, type DirEntryInfo, type StatFsInfo, type StatInfo } from '../core/core.js';
import { TMPFS_MAGIC, treeStatfs } from '../core/statfs-info.js';
import { fail, lstat, resolve, type Found, type MemfsStats } from './memfs-resolve.js';
import { grantRoot } from './memfs-root.js';
import { O_PATH, pathOnly } from '../core/flags.js';
import { openFollow, openPathRefusal, openRefusal, type Follow } from '../core/path-rules.js';

export interface MemfsCoreOptions {
  /** Permission bits cleared from the mode of every file and directory created. Default 0o022. */
  umask?: number;
}

interface MemfsDirent extends DirentLike {
  name: string | Buffer;
}

/** The set-group-ID bit (not among Node's fs.constants). */
const S_ISGID = 0o2000;

interface OpenFile {
  flags: number;
  dir: boolean;
  /** An O_PATH descriptor of a symlink: its target (memfs's fstat cannot tell a link's length). */
  link?: string;
}

/** The parts of memfs's Superblock (@jsonjoy.com/fs-core) an O_PATH descriptor of a symlink uses. */
interface FdSuperblock {
  getLinkOrThrow(path: string, syscall: string): { getNode(): { symlink?: string } };
  newFdNumber(): number;
  fds: Record<string, object>;
  openFiles: number;
}

/** Device numbers of MemfsCores: one each, never 0. */
let nextDev = 1;

export class MemfsCore implements Core {
  readonly umask: number;
  /** This volume's st_dev (memfs deviation: memfs says 0). */
  private readonly dev = nextDev++;
  private readonly files = new Map<number, OpenFile>();
  private readonly rootIno: number;

  constructor(
    readonly vol: Volume,
    opts: MemfsCoreOptions = {},
  ) {
    this.umask = opts.umask ?? 0o022;
    this.rootIno = this.lstat('/').ino;
    grantRoot(vol);
  }

  private run<T>(syscall: string, path: string | undefined, dest: string | undefined, fn: () => T): T {
    return runCoded(syscall, path, dest, fn);
  }

  private lstat(path: string): MemfsStats {
    return lstat(this.vol, path);
  }

  private resolve(path: string, follow: Follow, creat = false): Found {
    return resolve(this.vol, path, follow, creat);
  }

  /** Resolves an existing object for a lookup: a trailing slash follows the last link and wants a directory. */
  private existing(path: string, follow: boolean): Found & { st: MemfsStats } {
    const f = this.resolve(path, follow);
    if (!f.st) fail('ENOENT');
    if (f.slash && !f.st.isDirectory()) fail('ENOTDIR');
    return f as Found & { st: MemfsStats };
  }

  /** Resolves a name about to be created: it must not exist (EEXIST) and a trailing slash cannot create it. */
  private fresh(path: string): string {
    const f = this.resolve(path, 'never');
    if (f.st || f.dot) fail('EEXIST');
    // memfs deviation: 'new/' is created as 'new' by symlink and link.
    if (f.slash) fail('ENOENT');
    return f.path;
  }

  /** `target`: a symlink's target when known (an O_PATH descriptor has no path to read it at). */
  private info(st: MemfsStats, path: string, target?: string): StatInfo {
    const s = statInfoOf(st);
    s.dev = this.dev;
    // memfs deviation: a symlink shows mode 0o120666 and size 0.
    if (st.isSymbolicLink()) {
      s.mode = C.S_IFLNK | 0o777;
      s.size = Buffer.byteLength(target ?? String(this.vol.readlinkSync(path)));
    }
    // memfs deviation: the root starts with nlink 6 ('.' and '..' counted twice each).
    if (st.ino === this.rootIno && st.isDirectory()) {
      const ents = this.vol.readdirSync('/', { withFileTypes: true }) as MemfsDirent[];
      s.nlink = 2 + ents.filter((d) => d.isDirectory()).length;
    }
    return s;
  }

  /**
   * memfs deviation: a new object in a setgid directory takes the directory's group, and a new
   * directory the setgid bit too (Linux's BSD group semantics).
   */
  private inherit(path: string): void {
    const parent = this.lstat(path.slice(0, path.lastIndexOf('/')) || '/');
    if (!(parent.mode & S_ISGID)) return;
    const st = this.lstat(path);
    this.vol.lchownSync(path, st.uid, parent.gid);
    if (st.isDirectory()) this.vol.chmodSync(path, (st.mode & 0o7777) | S_ISGID);
  }

  stat(path: string, follow: boolean): StatInfo {
    return this.run(follow ? 'stat' : 'lstat', path, undefined, () => {
      const f = this.existing(path, follow);
      return this.info(f.st, f.path);
    });
  }

  tryStat(path: string, follow: boolean): StatInfo | undefined {
    return orMissing(() => this.stat(path, follow));
  }

  access(path: string, mode: number): void {
    this.run('access', path, undefined, () => {
      const f = this.existing(path, true);
      if (process.getuid?.() !== 0) return this.vol.accessSync(f.path, mode);
      // As root only X_OK can fail, on a file without any x bit.
      if (mode & C.X_OK && !f.st.isDirectory() && (f.st.mode & 0o111) === 0) fail('EACCES');
    });
  }

  readdir(path: string): DirEntryInfo[] {
    return this.run('scandir', path, undefined, () => {
      const f = this.existing(path, true);
      if (!f.st.isDirectory()) fail('ENOTDIR');
      const ents = this.vol.readdirSync(f.path, { withFileTypes: true }) as MemfsDirent[];
      return ents.map((d) => ({ name: String(d.name), type: direntType(d) }));
    });
  }

  mkdir(path: string, mode: number): void {
    this.run('mkdir', path, undefined, () => {
      const f = this.resolve(path, 'never');
      if (f.st || f.dot) fail('EEXIST');
      // memfs deviations: no umask; setuid/setgid of the mode kept (mkdir(2) keeps only the
      // permission and sticky bits; setgid comes from a setgid parent, see inherit).
      this.vol.mkdirSync(f.path, mode & ~this.umask & 0o1777);
      this.inherit(f.path);
    });
  }

  rmdir(path: string): void {
    this.run('rmdir', path, undefined, () => {
      const f = this.resolve(path, 'never');
      if (f.dot === 'root') fail('EBUSY');
      if (f.dot === '.') fail('EINVAL');
      if (f.dot === '..') fail('ENOTEMPTY');
      if (!f.st) fail('ENOENT');
      if (!f.st.isDirectory()) fail('ENOTDIR');
      this.vol.rmdirSync(f.path);
    });
  }

  unlink(path: string): void {
    this.run('unlink', path, undefined, () => {
      const f = this.resolve(path, 'never');
      if (!f.st) fail('ENOENT');
      // memfs deviations: EPERM for a directory, and 'file/' unlinks the file.
      if (f.dot || f.st.isDirectory()) fail('EISDIR');
      if (f.slash) fail('ENOTDIR');
      this.vol.unlinkSync(f.path);
    });
  }

  /** memfs deviation: rename checks the types of source and target only partly. */
  rename(from: string, to: string): void {
    this.run('rename', from, to, () => {
      const a = this.resolve(from, 'never');
      const b = this.resolve(to, 'never');
      if (a.dot || b.dot) fail('EBUSY');
      if (!a.st) fail('ENOENT');
      const dir = a.st.isDirectory();
      if (!dir && (a.slash || b.slash)) fail('ENOTDIR');
      if (b.st && b.st.ino === a.st.ino) return;
      if (dir && b.path.startsWith(`${a.path}/`)) fail('EINVAL');
      // rename(2): a target that is an ancestor of the source is ENOTEMPTY, before any type check.
      if (b.st && a.path.startsWith(`${b.path}/`)) fail('ENOTEMPTY');
      if (b.st) {
        if (dir && !b.st.isDirectory()) fail('ENOTDIR');
        if (!dir && b.st.isDirectory()) fail('EISDIR');
        if (dir && this.vol.readdirSync(b.path).length > 0) fail('ENOTEMPTY');
        // memfs deviation: the replaced object keeps its link count (a hard link to a replaced
        // file shows nlink 2, the parent of a replaced directory one link too many).
        if (dir) this.vol.rmdirSync(b.path);
        else this.vol.unlinkSync(b.path);
      }
      // memfs deviation: renaming a symlink renames what it points to. link + unlink moves the
      // link itself (memfs links a symlink without following it), keeping its inode.
      if (a.st.isSymbolicLink()) {
        this.vol.linkSync(a.path, b.path);
        this.vol.unlinkSync(a.path);
        return;
      }
      this.vol.renameSync(a.path, b.path);
    });
  }

  symlink(target: string, path: string): void {
    this.run('symlink', target, path, () => {
      if (target === '') fail('ENOENT');
      const at = this.fresh(path);
      this.vol.symlinkSync(target, at);
      this.inherit(at);
    });
  }

  readlink(path: string): string {
    return this.run('readlink', path, undefined, () => {
      const f = this.existing(path, false);
      if (!f.st.isSymbolicLink()) fail('EINVAL');
      return String(this.vol.readlinkSync(f.path));
    });
  }

  link(existing: string, newPath: string): void {
    this.run('link', existing, newPath, () => {
      const src = this.existing(existing, false);
      const dst = this.fresh(newPath);
      // memfs deviation: a directory can be hard-linked.
      if (src.st.isDirectory()) fail('EPERM');
      this.vol.linkSync(src.path, dst);
    });
  }

  chmod(path: string, mode: number, follow: boolean): void {
    this.run('chmod', path, undefined, () => {
      const f = this.existing(path, follow);
      // Linux cannot change a symlink's own mode (fchmodat AT_SYMLINK_NOFOLLOW: EOPNOTSUPP).
      if (f.st.isSymbolicLink()) fail('EOPNOTSUPP');
      this.vol.chmodSync(f.path, mode & 0o7777);
      this.vol.utimesSync(f.path, new Date(f.st.atimeMs), new Date(f.st.mtimeMs));
    });
  }

  /**
   * memfs deviations: -1 must leave an id as it is; and Linux clears setuid (and setgid when the
   * group may execute) on a chown of a non-directory, even when root does it.
   */
  private owner(st: MemfsStats, uid: number, gid: number): { uid: number; gid: number; mode?: number } {
    const out: { uid: number; gid: number; mode?: number } = { uid: uid === -1 ? st.uid : uid, gid: gid === -1 ? st.gid : gid };
    if (!st.isDirectory() && !st.isSymbolicLink() && st.mode & 0o6000) {
      out.mode = st.mode & 0o7777 & (st.mode & 0o010 ? ~0o6000 : ~0o4000);
    }
    return out;
  }

  chown(path: string, uid: number, gid: number, follow: boolean): void {
    this.run(follow ? 'chown' : 'lchown', path, undefined, () => {
      const f = this.existing(path, follow);
      const o = this.owner(f.st, uid, gid);
      this.vol.lchownSync(f.path, o.uid, o.gid);
      if (o.mode !== undefined) this.vol.chmodSync(f.path, o.mode);
      this.vol.lutimesSync(f.path, new Date(f.st.atimeMs), new Date(f.st.mtimeMs));
    });
  }

  utimes(path: string, atimeMs: number, mtimeMs: number, follow: boolean): void {
    this.run(follow ? 'utime' : 'lutime', path, undefined, () => {
      const f = this.existing(path, follow);
      // memfs reads a negative number of seconds as "now" (Node's API rule); a Date sets the time.
      this.vol.lutimesSync(f.path, new Date(atimeMs), new Date(mtimeMs));
    });
  }

  truncate(path: string, length: number): void {
    truncateByOpen(this, path, length);
  }

  realpath(path: string): string {
    return this.run('realpath', path, undefined, () => this.existing(path, true).path);
  }

  /**
   * open(2): O_CREAT|O_EXCL does not follow a last symlink (EEXIST), O_CREAT alone creates a
   * dangling link's target, O_NOFOLLOW refuses a last symlink (ELOOP), O_CREAT on 'name/' is EISDIR.
   */
  open(path: string, flags: number, mode: number): number {
    if (flags & O_PATH) return this.openPath(path, pathOnly(flags));
    return this.run('open', path, undefined, () => {
      const creat = (flags & C.O_CREAT) !== 0;
      const f = this.resolve(path, openFollow(flags), creat);
      const no = openRefusal(flags, f.st && { isDir: f.st.isDirectory(), isLink: f.st.isSymbolicLink() }, f.slash);
      if (no) fail(no);
      // memfs deviation: no umask. O_NOFOLLOW has been dealt with (memfs sees no symlink).
      const fd = this.vol.openSync(f.path, flags & ~C.O_NOFOLLOW, mode & ~this.umask & 0o7777);
      if (!f.st) this.inherit(f.path);
      this.files.set(fd, { flags, dir: (this.vol.fstatSync(fd) as MemfsStats).isDirectory() });
      return fd;
    });
  }

  /**
   * OVL-24, open(2) with O_PATH: only O_NOFOLLOW and O_DIRECTORY count; with O_NOFOLLOW a last
   * symlink is opened itself, O_DIRECTORY on a non-directory is ENOTDIR; only fstat and close
   * take the descriptor (EBADF otherwise). memfs deviation: memfs cannot open a symlink (ELOOP),
   * so that descriptor is memfs's own File made on the link's node through the Superblock, as
   * memfs's openLink makes one.
   */
  private openPath(path: string, flags: number): number {
    return this.run('open', path, undefined, () => {
      // A trailing slash follows a last link even with O_NOFOLLOW (the kernel's LOOKUP_FOLLOW: the walk's rule).
      const f = this.resolve(path, (flags & C.O_NOFOLLOW) === 0);
      const no = openPathRefusal(flags, f.st && { isDir: f.st.isDirectory(), isLink: f.st.isSymbolicLink() }, f.slash);
      if (no) fail(no);
      const st = f.st!;
      if (!st.isSymbolicLink()) {
        const fd = this.vol.openSync(f.path, C.O_RDONLY);
        this.files.set(fd, { flags: flags | C.O_RDONLY, dir: st.isDirectory() });
        return fd;
      }
      const sb = (this.vol as unknown as { _core: FdSuperblock })._core;
      const probe = this.vol.openSync('/', C.O_RDONLY);
      const FileOf = sb.fds[probe].constructor as new (link: unknown, node: unknown, flags: number, fd: number) => object;
      this.vol.closeSync(probe);
      const link = sb.getLinkOrThrow(f.path, 'open');
      const fd = sb.newFdNumber();
      sb.fds[fd] = new FileOf(link, link.getNode(), C.O_RDONLY, fd);
      sb.openFiles++;
      this.files.set(fd, { flags, dir: false, link: link.getNode().symlink ?? '' });
      return fd;
    });
  }

  /** An O_PATH descriptor opens nothing: every call but fstat and close is EBADF. */
  private usable(fd: number): void {
    if ((this.files.get(fd)?.flags ?? 0) & O_PATH) fail('EBADF');
  }

  close(fd: number): void {
    this.run('close', undefined, undefined, () => this.vol.closeSync(fd));
    this.files.delete(fd);
  }

  /** The access mode bits (O_RDONLY/O_WRONLY/O_RDWR) a descriptor was opened with. */
  private accessMode(fd: number): number | undefined {
    const f = this.files.get(fd);
    return f && f.flags & (C.O_RDONLY | C.O_WRONLY | C.O_RDWR);
  }

  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    return this.run('read', undefined, undefined, () => {
      this.usable(fd);
      // memfs deviations: reads through a write-only descriptor, and reads a directory as empty.
      if (this.accessMode(fd) === C.O_WRONLY) fail('EBADF');
      if (this.files.get(fd)?.dir) fail('EISDIR');
      return this.vol.readSync(fd, buffer, offset, length, position);
    });
  }

  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    return this.run('write', undefined, undefined, () => {
      this.usable(fd);
      // memfs deviation: writes through a read-only descriptor.
      if (this.accessMode(fd) === C.O_RDONLY) fail('EBADF');
      return this.vol.writeSync(fd, buffer, offset, length, position);
    });
  }

  fstat(fd: number): StatInfo {
    return this.run('fstat', undefined, undefined, () => {
      const st = this.vol.fstatSync(fd) as MemfsStats;
      // Only an O_PATH descriptor can be a symlink (its target is kept); no path is needed.
      return this.info(st, '', this.files.get(fd)?.link);
    });
  }

  ftruncate(fd: number, length: number): void {
    this.run('ftruncate', undefined, undefined, () => {
      this.usable(fd);
      // memfs deviation: truncates through a read-only descriptor, and "truncates" directories.
      if (this.accessMode(fd) === C.O_RDONLY || this.files.get(fd)?.dir) fail('EINVAL');
      this.vol.ftruncateSync(fd, length);
    });
  }

  fchmod(fd: number, mode: number): void {
    this.run('fchmod', undefined, undefined, () => {
      this.usable(fd);
      const st = this.vol.fstatSync(fd) as MemfsStats;
      this.vol.fchmodSync(fd, mode & 0o7777);
      this.vol.futimesSync(fd, new Date(st.atimeMs), new Date(st.mtimeMs));
    });
  }

  fchown(fd: number, uid: number, gid: number): void {
    this.run('fchown', undefined, undefined, () => {
      this.usable(fd);
      const st = this.vol.fstatSync(fd) as MemfsStats;
      const o = this.owner(st, uid, gid);
      this.vol.fchownSync(fd, o.uid, o.gid);
      if (o.mode !== undefined) this.vol.fchmodSync(fd, o.mode);
      this.vol.futimesSync(fd, new Date(st.atimeMs), new Date(st.mtimeMs));
    });
  }

  futimes(fd: number, atimeMs: number, mtimeMs: number): void {
    this.run('futime', undefined, undefined, () => {
      this.usable(fd);
      this.vol.futimesSync(fd, new Date(atimeMs), new Date(mtimeMs));
    });
  }

  fsync(fd: number): void {
    this.run('fsync', undefined, undefined, () => {
      this.usable(fd);
      this.vol.fsyncSync(fd);
    });
  }

  /** A memory filesystem's statfs: the volume's own sizes, as tmpfs (see src/fs/statfs.ts). */
  statfs(): StatFsInfo {
    return treeStatfs(this, TMPFS_MAGIC);
  }
}
