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
