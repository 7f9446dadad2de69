/**
 * mkdir { recursive: true }, as Node's C++ MKDirpSync / MKDirpAsync do it: a stack of paths, mkdir
 * the top; ENOENT pushes the path back with its parent (the text before the last '/') on top;
 * another error asks stat whether a directory is there. Returns the first directory created.
 *
 * The two differ, and both are kept (the callback and promise APIs use the async one):
 * - sync: an existing non-directory is EEXIST at the end of the path and ENOTDIR in the middle;
 *   stat's own error (a dangling link: ENOENT) is passed on; every error names the path asked for;
 * - async: in the middle, anything but a directory (a dangling link included) is ENOTDIR; an error
 *   names the path of the last mkdir or stat made (so possibly a parent).
 */
import { constants as C } from 'node:fs';
import { FsError } from '../core/errors.js';
import type { Core } from '../core/core.js';

function errCode(e: unknown): string {
  if (e instanceof FsError) return e.code;
  throw e;
}

/** stat (following links): undefined if it is a directory, else the code to report. */
function notDir(core: Core, path: string): string | undefined {
  try {
    return (core.stat(path, true).mode & C.S_IFMT) === C.S_IFDIR ? undefined : 'EEXIST';
  } catch (e) {
    return errCode(e);
  }
}

/** `path` is absolute; returns the first directory created (absolute) or undefined. */
export function mkdirp(core: Core, path: string, mode: number, async = false): string | undefined {
  const stop = new Set(async ? ['EACCES', 'ENOTDIR', 'EPERM'] : ['EACCES', 'ENOSPC', 'ENOTDIR', 'EPERM']);
  const failAt = (code: string, at: string) => new FsError(code, 'mkdir', async ? at : path);
  const stack = [path];
  let first: string | undefined;
  while (stack.length > 0) {
    const next = stack.pop()!;
    let code: string | undefined;
    try {
      core.mkdir(next, mode);
    } catch (e) {
      code = errCode(e);
    }
    if (code === undefined) {
      first ??= next;
      continue;
    }
    if (stop.has(code)) throw failAt(code, next);
    if (code === 'ENOENT') {
      const cut = next.lastIndexOf('/');
      const parent = cut < 0 ? next : next.slice(0, cut);
      if (parent !== next && parent !== '') {
        stack.push(next, parent);
        continue;
      }
      // Nothing left to create above: Node goes on as for EEXIST, and stat then fails.
      if (stack.length > 0) continue;
      code = 'EEXIST';
    }
    const statCode = notDir(core, next);
    if (async) {
      if (code === 'EEXIST' && stack.length > 0) {
        if (statCode === undefined) continue;
        throw failAt('ENOTDIR', next);
      }
      // Node's async walk ends here, successfully if a directory is there.
      if (statCode !== undefined) throw failAt(statCode, next);
      return first;
    }
    if (statCode === 'EEXIST') throw failAt(code === 'EEXIST' && stack.length > 0 ? 'ENOTDIR' : 'EEXIST', next);
    if (statCode !== undefined) throw failAt(statCode, next);
  }
  return first;
}
