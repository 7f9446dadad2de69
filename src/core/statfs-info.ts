/**
 * What statfs(2) reports of a core's filesystem (Node's StatFs object is built from it in
 * src/fs/statfs.ts).
 *
 * WHAT THE NUMBERS ARE. A core that knows its filesystem answers itself (Core.statfs): a bind
 * mount (HostCore) gives the host's statfs of the object, a container's MountCore asks the mount
 * holding the path. A view that lives in memory (the union, memfs) answers with `treeStatfs`, the
 * view's own sizes rather than a disk's:
 * - type: the filesystem it stands for (OVERLAYFS_SUPER_MAGIC for a union view, as `stat -f` says
 *   inside a container on an overlay root; TMPFS_MAGIC for memfs), bsize 4096;
 * - used blocks and files: what the view holds now, walking its tree (each object once, its
 *   st_blocks, or a file's size when larger, rounded up to whole 4096-byte blocks);
 * - free: what it can still take, the host's free memory (os.freemem(), in blocks) for both blocks
 *   and files, as tmpfs sizes itself from memory; bavail = bfree (no reserved blocks);
 * - blocks = used + free, files = objects + free files.
 */
import { constants as C } from 'node:fs';
import { freemem } from 'node:os';
import { posix } from 'node:path';
import type { Core, StatFsInfo, StatInfo } from './core.js';

export const OVERLAYFS_SUPER_MAGIC = 0x794c7630;
export const TMPFS_MAGIC = 0x01021994;
const BSIZE = 4096;

/** A view's statfs from its own tree (see above): `type` is the filesystem magic it reports. */
export function treeStatfs(core: Core, type: number): StatFsInfo {
  const seen = new Set<string>();
  let used = 0;
  // A core may not count blocks (memfs says 1): a file's size is used then.
  const blocksOf = (st: StatInfo) => {
    const bytes = Math.max(st.blocks * 512, (st.mode & C.S_IFMT) === C.S_IFREG ? st.size : 0);
    return Math.ceil(bytes / BSIZE);
  };
  const walk = (dir: string) => {
    for (const e of core.readdir(dir)) {
      const path = posix.join(dir, e.name);
      const st = core.tryStat(path, false);
      if (!st) continue;
      const id = `${st.dev}:${st.ino}`;
      if (seen.has(id)) continue;
      seen.add(id);
      used += blocksOf(st);
      if ((st.mode & C.S_IFMT) === C.S_IFDIR) walk(path);
    }
  };
  const root = core.stat('/', false);
  seen.add(`${root.dev}:${root.ino}`);
  used += blocksOf(root);
  walk('/');
  const free = Math.floor(freemem() / BSIZE);
  return { type, bsize: BSIZE, blocks: used + free, bfree: free, bavail: free, files: seen.size + free, ffree: free };
}
