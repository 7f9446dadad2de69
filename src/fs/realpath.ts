/**
 * realpathSync as Node's JavaScript implementation does it (fs.realpath and fs.realpathSync; the
 * `.native` variants and fs.promises.realpath ask the core instead):
 *
 * - the path is first resolved lexically (path.resolve: '..' removes the previous name before
 *   any symlink is looked at, and a trailing slash goes away), against the view's root;
 * - then each prefix is lstat'ed; a symlink is stat'ed (so a dangling or looping link fails
 *   with syscall 'stat'), read, and the rest of the path resolved against its target.
 *
 * Errors name the absolute prefix that failed ("ENOENT ... lstat '/a'"), as Node's do.
 */
import { constants as C } from 'node:fs';
import { posix } from 'node:path';
import type { Core } from '../core/core.js';

export function realpathJs(core: Core, input: string): string {
  let p = posix.resolve('/', input);
  const knownHard = new Set<string>();
  const seenLinks = new Map<string, string>();
  let current = '/';
  let base = '/';
  let pos = 1;
  while (pos < p.length) {
    const next = p.indexOf('/', pos);
    const previous = current;
    if (next === -1) {
      const last = p.slice(pos);
      current += last;
      base = previous + last;
      pos = p.length;
    } else {
      current += p.slice(pos, next + 1);
      base = previous + p.slice(pos, next);
      pos = next + 1;
    }
    if (knownHard.has(base)) continue;
    const st = core.stat(base, false);
    if ((st.mode & C.S_IFMT) !== C.S_IFLNK) {
      knownHard.add(base);
      continue;
    }
    const id = `${st.dev}:${st.ino}`;
    let target = seenLinks.get(id);
    if (target === undefined) {
      core.stat(base, true);
      target = core.readlink(base);
      seenLinks.set(id, target);
    }
    p = posix.resolve(previous, target, p.slice(pos));
    current = base = '/';
    pos = 1;
  }
  return p;
}
