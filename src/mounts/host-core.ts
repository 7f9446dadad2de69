/**
 * `HostCore`: the Core syscalls over a real directory on the host (bind mounts, on-disk volumes).
 *
 * CONFINEMENT. Nothing outside the root directory is ever read or changed through a HostCore,
 * whatever its paths and symlinks say: every path is resolved by host-resolve.ts as the kernel
 * would inside a chroot at the root ('..' stops at the root, '/x' in a link target is ROOT/x),
 * holding an O_PATH descriptor per directory, and the call is then made through those
 * descriptors (see host-resolve.ts for why a concurrent swap cannot redirect it). A last symlink
 * is never followed by lstat, readlink, unlink, rmdir, rename, symlink, link, lchown and lutimes;
 * open, stat, access, chmod, chown, utimes, truncate and readdir follow it inside the root.
 *
 * BEHAVIOUR. Everything else is the host's own: the kernel applies the process umask, setgid
 * directories, setuid clearing on chown, link counts, rename's rules and EXDEV across host mounts.
 * The checks made here are only those the host cannot make because it is given a plain name:
 * trailing slashes, '.' and '..' as the last name, O_NOFOLLOW/O_EXCL on the last link.
 *
 * READ-ONLY (`readOnly: true`, a ':ro' bind): every change is EROFS, in the kernel's order, as
 * checked on a read-only tmpfs (Linux 6.x): creating calls (mkdir, symlink, link, open O_CREAT)
 * look the name up first (EEXIST, ENOENT, EISDIR), then EROFS; unlink, rmdir and rename are EROFS
 * once the parent is found, before the last name is looked up ('.'/'..' errors come first);
 * chmod, chown, utimes and access(W_OK) are EROFS after the lookup; open for writing or O_TRUNC is
 * EROFS for files and directories (not FIFOs, sockets or devices); fchmod/fchown/futimes EROFS.
 *
 * DESCRIPTORS. Numbers are this core's own (lowest free from 3), each mapped to a host
 * descriptor; close() closes it, closeAll() closes them all (teardown). No other descriptor is
 * held between calls: each call reopens the root and checks it is still the same directory.
 * Paths are strings: host names that are not valid UTF-8 are not supported.
 */
import { runCoded } from './coded.js';
import * as fs from 'node:fs';
import { DescriptorTable } from '../core/descriptors.js';
import { O_PATH, pathOnly } from '../core/flags.js';
import { openFollow, openPathRefusal, openRefusal, type Follow } from '../core/path-rules.js';
import { direntType, orMissing, statInfoOf, truncateByOpen, type Core, type DirEntryInfo, type StatFsInfo, type StatInfo } from '../core/core.js';
import { at, fail, isDir, isLink, openRoot, resolve, self, type Found } from './host-resolve.js';

const C = fs.constants;

export interface HostCoreOptions {
  /** Every change fails with EROFS (a ':ro' bind mount). */
  readOnly?: boolean;
}

const info = (st: fs.Stats): StatInfo => statInfoOf(st);

/** A time for Node's utimes: seconds, or a Date for times before 1970 (Node reads negative seconds as "now"). */
const time = (ms: number): number | Date => (ms >= 0 ? ms / 1000 : new Date(ms));

/** A read-only mount refuses writes to these types only (the kernel's sb_permission). */
const guarded = (st: fs.Stats): boolean => st.isFile() || st.isDirectory() || st.isSymbolicLink();

type Existing = Found & { fd: number; st: fs.Stats };

export class HostCore implements Core {
  readonly root: string;
  readonly readOnly: boolean;
  /** The root directory's identity: every call reopens it by path and checks it is still this one. */
  private readonly rootId: { dev: number; ino: number };
  /** This core's descriptor numbers → host descriptors (the host's open file is the object). */
  private readonly files = new DescriptorTable<number>();

  constructor(rootDir: string, opts: HostCoreOptions = {}) {
    this.root = rootDir;
    this.readOnly = opts.readOnly ?? false;
    const { fd, st } = openRoot(rootDir);
    fs.closeSync(fd);
    this.rootId = { dev: st.dev, ino: st.ino };
  }

  /** Closes every descriptor opened through this core (teardown). The core stays usable. */
  closeAll(): void {
    for (const host of this.files.clear()) {
      try {
        fs.closeSync(host);
      } catch {
        // Closed all the same (close(2) frees the descriptor even when it reports an error).
      }
    }
  }

  private run<T>(syscall: string, path: string | undefined, dest: string | undefined, fn: () => T): T {
    return runCoded(syscall, path, dest, fn);
  }

  private writable(): void {
    if (this.readOnly) fail('EROFS');
  }

  /** Resolves `path`, runs `fn` with what it found, then closes the walk's descriptors. */
  private walk<T>(path: string, follow: Follow, fn: (f: Found) => T, creat = false): T {
    const f = resolve(openRoot(this.root, this.rootId), path, follow, creat);
    try {
      return fn(f);
    } finally {
      f.release();
    }
  }

  /** An existing object for a lookup: a trailing slash follows the last link and wants a directory. */
  private existing<T>(path: string, follow: boolean, fn: (f: Existing) => T): T {
    return this.walk(path, follow, (f) => {
      if (!f.st) fail('ENOENT');
      if (f.slash && !isDir(f.st)) fail('ENOTDIR');
      return fn(f as Existing);
    });
  }

  /** A name about to be created: it must not exist (EEXIST), and 'new/' cannot be created (ENOENT); then EROFS. */
  private fresh<T>(path: string, fn: (where: string) => T): T {
    return this.walk(path, 'never', (f) => {
      if (f.st || f.dot) fail('EEXIST');
      if (f.slash) fail('ENOENT');
      this.writable();
      return fn(at(f.dir, f.name));
    });
  }

  stat(path: string, follow: boolean): StatInfo {
    return this.run(follow ? 'stat' : 'lstat', path, undefined, () => this.existing(path, follow, (f) => info(f.st)));
  }

  tryStat(path: string, follow: boolean): StatInfo | undefined {
    return orMissing(() => this.stat(path, follow));
  }

  access(path: string, mode: number): void {
    this.run('access', path, undefined, () =>
      this.existing(path, true, (f) => {
        if (mode & C.W_OK && this.readOnly && guarded(f.st)) fail('EROFS');
        fs.accessSync(self(f.fd), mode);
      }),
    );
  }

  readdir(path: string): DirEntryInfo[] {
    return this.run('scandir', path, undefined, () =>
      this.existing(path, true, (f) => {
        if (!isDir(f.st)) fail('ENOTDIR');
        return fs.readdirSync(self(f.fd), { withFileTypes: true }).map((d) => ({ name: d.name, type: direntType(d) }));
      }),
    );
  }

  mkdir(path: string, mode: number): void {
    this.run('mkdir', path, undefined, () =>
      this.walk(path, 'never', (f) => {
        if (f.st || f.dot) fail('EEXIST');
        this.writable();
        fs.mkdirSync(at(f.dir, f.name), mode);
      }),
    );
  }

  rmdir(path: string): void {
    this.run('rmdir', path, undefined, () =>
      this.walk(path, 'never', (f) => {
        if (f.dot === 'root') fail('EBUSY');
        if (f.dot === '.') fail('EINVAL');
        if (f.dot === '..') fail('ENOTEMPTY');
        this.writable();
        // The host finds what is there: ENOENT, ENOTDIR (a file or a symlink), ENOTEMPTY, EBUSY.
        fs.rmdirSync(at(f.dir, f.name));
      }),
    );
  }

  unlink(path: string): void {
    this.run('unlink', path, undefined, () =>
      this.walk(path, 'never', (f) => {
        if (f.dot) fail('EISDIR');
        this.writable();
        if (!f.st) fail('ENOENT');
        if (f.slash) fail(isDir(f.st) ? 'EISDIR' : 'ENOTDIR');
        fs.unlinkSync(at(f.dir, f.name));
      }),
    );
  }

  rename(from: string, to: string): void {
    this.run('rename', from, to, () =>
      this.walk(from, 'never', (a) =>
        this.walk(to, 'never', (b) => {
          if (a.dot || b.dot) fail('EBUSY');
          this.writable();
          if (!a.st) fail('ENOENT');
          // Unless the source is a directory, a trailing slash on either name is ENOTDIR.
          if (!isDir(a.st) && (a.slash || b.slash)) fail('ENOTDIR');
          // The host checks the rest: same inode, into itself (EINVAL), types, ENOTEMPTY, EXDEV.
          fs.renameSync(at(a.dir, a.name), at(b.dir, b.name));
        }),
      ),
    );
  }

  symlink(target: string, path: string): void {
    this.run('symlink', target, path, () => {
      if (target === '') fail('ENOENT');
      // The target is stored as text; HostCore resolves it inside the root whenever it is followed.
      this.fresh(path, (where) => fs.symlinkSync(target, where));
    });
  }

  readlink(path: string): string {
    return this.run('readlink', path, undefined, () =>
      this.existing(path, false, (f) => {
        if (!isLink(f.st)) fail('EINVAL');
        return fs.readlinkSync(at(f.dir, f.name));
      }),
    );
  }

  /** link(2) does not follow the existing path's last link: both names resolve inside the root. */
  link(existing: string, newPath: string): void {
    this.run('link', existing, newPath, () =>
      this.existing(existing, false, (src) =>
        this.fresh(newPath, (where) => {
          if (isDir(src.st)) fail('EPERM');
          fs.linkSync(at(src.dir, src.name), where);
        }),
      ),
    );
  }

  chmod(path: string, mode: number, follow: boolean): void {
    this.run('chmod', path, undefined, () =>
      this.existing(path, follow, (f) => {
        // Linux cannot change a symlink's own mode (fchmodat AT_SYMLINK_NOFOLLOW: EOPNOTSUPP).
        if (isLink(f.st)) fail('EOPNOTSUPP');
        this.writable();
        fs.chmodSync(self(f.fd), mode & 0o7777);
      }),
    );
  }

  chown(path: string, uid: number, gid: number, follow: boolean): void {
    this.run(follow ? 'chown' : 'lchown', path, undefined, () =>
      this.existing(path, follow, (f) => {
        this.writable();
        if (isLink(f.st)) fs.lchownSync(at(f.dir, f.name), uid, gid);
        else fs.chownSync(self(f.fd), uid, gid);
      }),
    );
  }

  utimes(path: string, atimeMs: number, mtimeMs: number, follow: boolean): void {
    this.run(follow ? 'utime' : 'lutime', path, undefined, () =>
      this.existing(path, follow, (f) => {
        this.writable();
        if (isLink(f.st)) fs.lutimesSync(at(f.dir, f.name), time(atimeMs), time(mtimeMs));
        else fs.utimesSync(self(f.fd), time(atimeMs), time(mtimeMs));
      }),
    );
  }

  truncate(path: string, length: number): void {
    truncateByOpen(this, path, length);
  }

  realpath(path: string): string {
    return this.run('realpath', path, undefined, () => this.existing(path, true, (f) => f.path));
  }

  /**
   * open(2): O_CREAT|O_EXCL does not follow a last symlink (EEXIST), O_CREAT alone creates a
   * dangling link's target (inside the root), O_NOFOLLOW refuses a last symlink (ELOOP), O_CREAT
   * on 'name/' is EISDIR. An existing object is reopened through its O_PATH descriptor; a new one
   * is created by name with O_NOFOLLOW, so a link planted meanwhile is refused, not followed.
   */
  open(path: string, flags: number, mode: number): number {
    if (flags & O_PATH) return this.openPath(path, pathOnly(flags));
    return this.run('open', path, undefined, () => {
      const creat = (flags & C.O_CREAT) !== 0;
      const writing = (flags & (C.O_WRONLY | C.O_RDWR)) !== 0;
      const host = this.walk(
        path,
        openFollow(flags),
        (f) => {
          const no = openRefusal(flags, f.st && { isDir: isDir(f.st), isLink: isLink(f.st) }, f.slash);
          if (no) fail(no);
          if (!f.st) {
            this.writable();
            return fs.openSync(at(f.dir, f.name), flags | C.O_NOFOLLOW, mode);
          }
          const st = f.st;
          if (this.readOnly && guarded(st) && (writing || (flags & C.O_TRUNC && st.isFile()))) fail('EROFS');
          return fs.openSync(self(f.fd!), flags & ~(C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW), mode);
        },
        creat,
      );
      return this.files.add(host);
    });
  }

  /**
   * OVL-24, open(2) with O_PATH: only O_NOFOLLOW and O_DIRECTORY count; with O_NOFOLLOW a last
   * symlink is opened itself (reopening its walk descriptor's /proc/self/fd link without
   * O_NOFOLLOW gives that same object), O_DIRECTORY on a non-directory is ENOTDIR. The host
   * answers EBADF for everything but fstat and close on the descriptor.
   */
  private openPath(path: string, flags: number): number {
    return this.run('open', path, undefined, () => {
      // A trailing slash follows a last link even with O_NOFOLLOW (the kernel's LOOKUP_FOLLOW: the walk's rule).
      const host = this.walk(path, (flags & C.O_NOFOLLOW) === 0, (f) => {
        const no = openPathRefusal(flags, f.st && { isDir: isDir(f.st), isLink: isLink(f.st) }, f.slash);
        if (no) fail(no);
        return fs.openSync(self(f.fd!), O_PATH);
      });
      return this.files.add(host);
    });
  }

  /** Runs `fn` on the host descriptor behind one of ours (EBADF if none); `change`: EROFS on a read-only core. */
  private onFd<T>(syscall: string, fd: number, fn: (host: number) => T, change = false): T {
    return this.run(syscall, undefined, undefined, () => {
      const host = this.files.get(fd, syscall);
      if (change) this.writable();
      return fn(host);
    });
  }

  close(fd: number): void {
    // As close(2): the number is free afterwards even if the host reports an error.
    this.run('close', undefined, undefined, () => fs.closeSync(this.files.remove(fd)));
  }

  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    return this.onFd('read', fd, (host) => fs.readSync(host, buffer, offset, length, position));
  }

  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    return this.onFd('write', fd, (host) => fs.writeSync(host, buffer, offset, length, position));
  }

  fstat(fd: number): StatInfo {
    return this.onFd('fstat', fd, (host) => info(fs.fstatSync(host)));
  }

  ftruncate(fd: number, length: number): void {
    this.onFd('ftruncate', fd, (host) => fs.ftruncateSync(host, length));
  }

  fchmod(fd: number, mode: number): void {
    this.onFd('fchmod', fd, (host) => fs.fchmodSync(host, mode & 0o7777), true);
  }

  fchown(fd: number, uid: number, gid: number): void {
    this.onFd('fchown', fd, (host) => fs.fchownSync(host, uid, gid), true);
  }

  futimes(fd: number, atimeMs: number, mtimeMs: number): void {
    this.onFd('futime', fd, (host) => fs.futimesSync(host, time(atimeMs), time(mtimeMs)), true);
  }

  fsync(fd: number): void {
    this.onFd('fsync', fd, (host) => fs.fsyncSync(host));
  }

  /** The host's statfs of the object (through its own descriptor, inside the root). */
  statfs(path: string): StatFsInfo {
    return this.run('statfs', path, undefined, () =>
      this.existing(path, true, (f) => {
        const s = fs.statfsSync(self(f.fd));
        return { type: s.type, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree };
      }),
    );
  }
}
