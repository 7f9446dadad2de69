/**
 * Path rules of the one walk (walk.ts) and of the open flags, written once here for every core
 * (union, mount router, host, memfs).
 */

import { constants as C } from 'node:fs';

/**
 * OVL-25: a path ending in '/' or '/.' names a directory: a non-directory there is ENOTDIR. The
 * same holds for a symlink's target when the link is the last component and is followed ('x/'
 * naming a file is ENOTDIR, as on Linux).
 */
export function wantsDir(pathOrTarget: string): boolean {
  return pathOrTarget.endsWith('/') || pathOrTarget.endsWith('/.') || pathOrTarget === '.';
}

/**
 * How a walk treats a symlink in the last component: `true` follows it (stat, open), `false` only
 * when a trailing slash asks for a directory (lstat 'link/'), `'never'` acts on the name itself
 * (unlink, rmdir, rename), `'create'` is open with O_CREAT: followed, but once a trailing slash is
 * pending (in the path or a link's target) the name is not looked up at all and open is EISDIR
 * (Linux: `c -> a/`, `a -> b/x`, open('c', O_CREAT) is EISDIR, not ENOENT).
 */
export type Follow = boolean | 'never' | 'create';

export function followsLast(follow: Follow, slash: boolean): boolean {
  if (follow === 'create') return !slash;
  return follow === true || (slash && follow !== 'never');
}

/**
 * open(2)'s treatment of a last symlink. O_CREAT with O_EXCL or O_NOFOLLOW acts on the name itself
 * ('c' -> EEXIST, 'a/' -> EISDIR); O_NOFOLLOW alone still follows for a trailing slash.
 */
export function openFollow(flags: number): Follow {
  const nofollow = (flags & (C.O_EXCL | C.O_NOFOLLOW)) !== 0;
  if (flags & C.O_CREAT) return nofollow ? 'never' : 'create';
  return (flags & C.O_NOFOLLOW) === 0;
}

/** What a walk found at the last name, as open(2)'s rules need it (undefined: nothing there). */
export interface OpenTarget {
  isDir: boolean;
  /** A last symlink the walk did not follow. */
  isLink: boolean;
}

/**
 * open(2)'s answer from its flags and what is at the name, before a core creates, truncates or
 * opens anything (every core asks this; EROFS and the creation itself are the core's).
 */
export function openRefusal(flags: number, obj: OpenTarget | undefined, slash: boolean): string | undefined {
  const creat = (flags & C.O_CREAT) !== 0;
  // Nothing there: only O_CREAT makes it (a pending trailing slash was EISDIR in the walk).
  if (!obj) return creat ? undefined : 'ENOENT';
  // O_CREAT|O_EXCL wants a new name: anything there, a link not followed or '.', is EEXIST.
  if (creat && flags & C.O_EXCL) return 'EEXIST';
  // OVL-25: a trailing slash wants a directory.
  if (slash && !obj.isDir) return 'ENOTDIR';
  // O_NOFOLLOW on a last symlink.
  if (obj.isLink) return 'ELOOP';
  // A directory opens for reading only: writing, O_CREAT and O_TRUNC (which asks for write access) are EISDIR.
  if (obj.isDir && ((flags & 3) !== C.O_RDONLY || creat || flags & C.O_TRUNC)) return 'EISDIR';
  if (flags & C.O_DIRECTORY && !obj.isDir) return 'ENOTDIR';
  return undefined;
}

/**
 * OVL-24, open(2) with O_PATH (flags already reduced by `pathOnly`): nothing is created; a last
 * symlink opened with O_NOFOLLOW is the link itself; a trailing slash or O_DIRECTORY wants a directory.
 */
export function openPathRefusal(flags: number, obj: OpenTarget | undefined, slash: boolean): string | undefined {
  if (!obj) return 'ENOENT';
  if ((slash || flags & C.O_DIRECTORY) && !obj.isDir) return 'ENOTDIR';
  return undefined;
}
