/**
 * Path rules every core's walk applies the same way (union, mount router, host, memfs), written
 * once here.
 */

/**
 * OVL-25: a path ending in '/' or '/.' names a directory: a non-directory there is ENOTDIR. The
 * same holds for a symlink's target when the link is the last component and is followed ('x/'
 * naming a file is ENOTDIR, as on Linux).
 */
export function wantsDir(pathOrTarget: string): boolean {
  return pathOrTarget.endsWith('/') || pathOrTarget.endsWith('/.') || pathOrTarget === '.';
}
