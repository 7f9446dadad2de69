/**
 * The confined path walk of `HostCore`: a path inside a host directory is resolved by the one walk
 * (core/walk.ts), with the lookups below, one component at a time, as the kernel would resolve it if that directory were the process's root
 * (chroot): '..' at the root stays at the root, a symlink's target is resolved inside the root
 * ('/x' in a target is ROOT/x), '..' after a link is taken physically, at most 40 links.
 *
 * RACE-FREE BY DESCRIPTORS. Each component is opened with O_PATH | O_NOFOLLOW relative to the
 * descriptor of the directory above it, through the kernel's magic links: '/proc/self/fd/<dir>/
 * <name>' makes the kernel start at the inode <dir> holds (openat without openat in Node). The
 * walk never hands the kernel a path with more than one name after a descriptor, and that name is
 * never followed (O_NOFOLLOW, or a call that does not follow its last name), so a directory or
 * symlink swapped in by another process while we walk cannot lead the kernel outside the root:
 * what we looked at is what we hold. The callers then act through the descriptors:
 * - `self(fd)` (the object's own O_PATH descriptor) for calls that follow: open (a reopen),
 *   chmod, chown, utimes, access, readdir. The inode is pinned; it was checked not to be a link.
 * - `at(dir, name)` for calls that never follow their last name: unlink, rmdir, rename, symlink,
 *   link, mkdir, readlink, open(O_CREAT | O_NOFOLLOW) of a new name, lchown/lutimes of a link.
 * stat and lstat are the fstat of the held descriptor.
 * A symlink's text is read through `at(dir, name)`; if the name changed meanwhile, what is read is
 * still resolved inside the root (or the walk retries it, counting a hop).
 *
 * The root itself is reopened by its host path at the start of every walk and checked to be the
 * same directory (dev, ino) as when the core was made: no descriptor outlives a call, so none can
 * be closed under us by other code between calls and its number reused for something else.
 *
 * WHAT REMAINS.
 * - Answers may be stale: a name swapped after the walk is acted on as it is then, but still
 *   inside its directory and never followed; realpath's answer is a snapshot.
 * - A directory moved out of the root by a process on the host while we hold it is still used for
 *   that one call (the kernel's bind mounts behave the same way for a process inside one).
 * - Descriptors are trusted for the length of one synchronous call: code in this process that
 *   closes descriptors it does not own (a double close on a libuv thread, say) could close one of
 *   ours mid-walk and have its number reused. Open files (this core's descriptor table) are held
 *   between calls and share that assumption, as every program using descriptors does.
 * - One descriptor per directory level is held during a walk: a hostile tree thousands of levels
 *   deep fails with EMFILE (no escape).
 * - Needs Linux's /proc (HostCore checks the magic links work and refuses to start otherwise).
 */
import { Buffer } from 'node:buffer';
import * as fs from 'node:fs';

const { O_NOFOLLOW, O_DIRECTORY, S_IFMT, S_IFLNK, S_IFDIR } = fs.constants;
import { O_PATH } from '../core/flags.js';
/** Linux's MAXSYMLINKS. */
const MAX_HOPS = 40;
/** Linux's PATH_MAX (bytes, the terminating NUL included). */
const PATH_MAX = 4096;

/** The path the kernel resolves to the object a descriptor holds. */
export const self = (fd: number): string => `/proc/self/fd/${fd}`;
/** The path the kernel resolves to `name` inside the directory a descriptor holds. */
export const at = (dir: number, name: string): string => `/proc/self/fd/${dir}/${name}`;

export { codeOf, fail } from './coded.js';
import { codeOf, fail } from './coded.js';
import type { Follow } from '../core/path-rules.js';
import { walkPath, type WalkOps } from '../core/walk.js';

export const isDir = (st: fs.Stats): boolean => (st.mode & S_IFMT) === S_IFDIR;
export const isLink = (st: fs.Stats): boolean => (st.mode & S_IFMT) === S_IFLNK;

/** Where a path led. Holds descriptors: `release()` closes them. */
export interface Found {
  /** Symlink-free path inside the root of the object (or of where it would be created). */
  path: string;
  /** O_PATH descriptor of the directory holding the last name. */
  dir: number;
  /** The last name in `dir`; '' when the path named a directory itself (the root, '.', '..'). */
  name: string;
  /** O_PATH descriptor of the object, when it exists. */
  fd?: number;
  /** Its fstat (the descriptor's, so it describes exactly the inode held). */
  st?: fs.Stats;
  /** The path ended with '/' (or '/.'): the object must be a directory. */
  slash: boolean;
  /** The last name was '.' or '..' (or the path was the root): it names a directory itself. */
  dot: '.' | '..' | 'root' | undefined;
  release(): void;
}

interface Level {
  name: string;
  fd: number;
  st: fs.Stats;
}

/** The host core's part of the one walk (core/walk.ts): each name opened O_PATH | O_NOFOLLOW under its directory's descriptor. */
const hostOps: WalkOps<Level> = {
  maxHops: MAX_HOPS,
  child: (dir, name) => {
    let fd: number;
    try {
      fd = fs.openSync(at(dir.fd, name), O_PATH | O_NOFOLLOW);
    } catch (e) {
      if (codeOf(e) === 'ENOENT') return undefined;
      throw e;
    }
    try {
      return { name, fd, st: fs.fstatSync(fd) };
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  },
  kind: (l) => (isDir(l.st) ? 'dir' : isLink(l.st) ? 'link' : 'other'),
  readlink: (_link, dir, name) => {
    try {
      return fs.readlinkSync(at(dir.fd, name));
    } catch (e) {
      // Swapped for a non-link since it was opened: the walk looks at the name again (a hop is counted).
      if (codeOf(e) === 'EINVAL' || codeOf(e) === 'ENOENT') return undefined;
      throw e;
    }
  },
  drop: (l) => fs.closeSync(l.fd),
};

/**
 * Resolves `path` under the root directory, whose O_PATH descriptor (and fstat) `root` is: the
 * walk owns it, and closes it with the rest on release() or on error. A missing last name is not
 * an error (`st` is undefined). `creat`: open with O_CREAT.
 */
export function resolve(root: { fd: number; st: fs.Stats }, path: string, follow: Follow, creat = false): Found {
  if (Buffer.byteLength(path) >= PATH_MAX) {
    fs.closeSync(root.fd);
    fail('ENAMETOOLONG');
  }
  const w = walkPath(hostOps, { name: '', ...root }, path, follow, creat);
  if (typeof w === 'string') fail(w);
  const { chain, names, slash, dots: dot } = w;
  const release = () => {
    while (chain.length > 0) fs.closeSync(chain.pop()!.fd);
  };
  const top = chain[chain.length - 1];
  const base = { path: `/${names.join('/')}`, slash, dot, release };
  if (!w.found) return { ...base, dir: top.fd, name: names[names.length - 1] };
  // The object is the top level; its directory the one below (the root is its own directory).
  const parent = chain.length > 1 ? chain[chain.length - 2] : top;
  return { ...base, dir: parent.fd, name: chain.length > 1 && !dot ? top.name : '', fd: top.fd, st: top.st };
}

/**
 * Opens the root directory as an O_PATH descriptor. With `expect` (the root's first dev/ino), a
 * directory that is no longer the one the core was made for is ENOENT (deleted or replaced, as a
 * bind mount's source would still be the old, deleted directory). Without, checks that the
 * kernel's magic links work and lead to it.
 */
export function openRoot(rootDir: string, expect?: { dev: number; ino: number }): { fd: number; st: fs.Stats } {
  if (process.platform !== 'linux') throw new Error('HostCore needs Linux (O_PATH and /proc/self/fd)');
  const fd = fs.openSync(rootDir, O_PATH | O_DIRECTORY);
  try {
    const st = fs.fstatSync(fd);
    if (expect) {
      if (st.dev !== expect.dev || st.ino !== expect.ino) fail('ENOENT');
    } else {
      let via: fs.Stats | undefined;
      try {
        via = fs.statSync(self(fd));
      } catch {
        // Checked below.
      }
      if (via?.ino !== st.ino || via?.dev !== st.dev) {
        throw new Error(`HostCore needs Linux's /proc/self/fd magic links to confine paths to ${rootDir}`);
      }
    }
    return { fd, st };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}
