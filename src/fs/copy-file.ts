/**
 * copyFile as libuv's uv_fs_copyfile does it on Linux, over the core's descriptor calls:
 *
 * 1. open src O_RDONLY and fstat it;
 * 2. open dest O_WRONLY|O_CREAT (|O_EXCL with COPYFILE_EXCL) with src's mode;
 * 3. without EXCL: if dest is src itself (same dev and ino) stop, successfully, having changed
 *    nothing (this is what makes `copyFile(p, p)` a no-op instead of truncating p); else truncate;
 * 4. fchmod dest to src's mode, then copy st_size bytes (never more: the copy cannot chase its own
 *    writes), stopping early at EOF;
 * 5. on failure after dest was opened, dest is unlinked.
 *
 * Every failure is reported as syscall 'copyfile' with src and dest.
 */
import { Buffer } from 'node:buffer';
import { constants as C } from 'node:fs';
import { FsError } from '../core/errors.js';
import type { Core } from '../core/core.js';
import { validMode } from './errors.js';
import { onPaths, pathArg, type PathArg } from './paths.js';

const CHUNK = 64 * 1024;

export function copyFileSync(core: Core, src: unknown, dest: unknown, mode?: unknown): void {
  const s = pathArg(src, 'src');
  const d = pathArg(dest, 'dest');
  const flags = validMode(mode);
  onPaths('copyfile', s, d, () => {
    try {
      copy(core, s, d, flags);
    } catch (e) {
      throw e instanceof FsError ? new FsError(e.code, 'copyfile', s.abs, d.abs) : e;
    }
  });
}

function copy(core: Core, s: PathArg, d: PathArg, flags: number): void {
  const srcFd = core.open(s.abs, C.O_RDONLY, 0);
  let dstFd: number | undefined;
  let failed = true;
  try {
    const st = core.fstat(srcFd);
    const excl = (flags & C.COPYFILE_EXCL) !== 0;
    dstFd = core.open(d.abs, C.O_WRONLY | C.O_CREAT | (excl ? C.O_EXCL : 0), st.mode);
    if (!excl) {
      const dt = core.fstat(dstFd);
      if (dt.dev === st.dev && dt.ino === st.ino) {
        failed = false;
        return;
      }
      core.ftruncate(dstFd, 0);
    }
    core.fchmod(dstFd, st.mode & 0o7777);
    // The core has no reflinks: FICLONE falls back to a copy, FICLONE_FORCE cannot be honoured.
    if (flags & C.COPYFILE_FICLONE_FORCE) throw new FsError('ENOTSUP', 'copyfile');
    // A directory's st_size is nonzero on real filesystems, so the kernel's copy reads it and fails
    // with EISDIR; a core may report 0 for a directory: it is read all the same.
    const size = (st.mode & C.S_IFMT) === C.S_IFDIR ? Math.max(st.size, 1) : st.size;
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
    let offset = 0;
    while (offset < size) {
      const n = core.read(srcFd, buf, 0, Math.min(buf.byteLength, size - offset), offset);
      if (n === 0) break;
      let done = 0;
      while (done < n) done += core.write(dstFd, buf, done, n - done, null);
      offset += n;
    }
    failed = false;
  } finally {
    closeQuietly(core, srcFd);
    if (dstFd !== undefined) {
      closeQuietly(core, dstFd);
      if (failed) {
        try {
          core.unlink(d.abs);
        } catch {
          // The copy already failed; its error is the one reported.
        }
      }
    }
  }
}

function closeQuietly(core: Core, fd: number): void {
  try {
    core.close(fd);
  } catch {
    // Closing cannot undo anything; the result of the copy stands.
  }
}
