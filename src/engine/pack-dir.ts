/**
 * An OCI image layout directory stored as an image: the state keeps every image as one archive, and
 * an OCI archive is exactly a tar of the layout directory (OCI image spec, image-layout), so the
 * directory is packed as it is. Only what a layout holds is taken: directories and regular files
 * (the blobs, index.json, oci-layout); a symlink or device in it is refused, never followed.
 */
import { closeSync, fstatSync, lstatSync, openSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Entry } from '../entry.js';
import { StateError } from '../core/errors.js';
import { writeTar } from '../out/tar-write.js';
import { FileRegion } from '../source.js';

/** A layout announces itself with an `oci-layout` file: anything else is not packed (nor walked). */
export function assertLayout(dir: string): void {
  if (!lstatSync(join(dir, 'oci-layout'), { throwIfNoEntry: false })?.isFile()) {
    throw new StateError('BAD_INPUT', dir, 'not an OCI layout directory (it has no oci-layout file)');
  }
}

/** Writes the layout at `dir` as a tar to `dest` (which must not exist) and fsyncs it. */
export async function packLayout(dir: string, dest: string): Promise<void> {
  assertLayout(dir);
  const fds: number[] = [];
  try {
    const entries: Entry[] = [];
    const walk = (rel: string): void => {
      for (const name of readdirSync(join(dir, rel)).sort()) {
        const path = rel ? `${rel}/${name}` : name;
        const st = lstatSync(join(dir, path));
        const base = { path, mode: st.mode & 0o7777, uid: 0, gid: 0, mtime: Math.floor(st.mtimeMs) };
        if (st.isDirectory()) {
          entries.push({ ...base, type: 'dir', size: 0 });
          walk(path);
        } else if (st.isFile()) {
          const fd = openSync(join(dir, path), 'r');
          fds.push(fd);
          const size = fstatSync(fd).size;
          entries.push({ ...base, type: 'file', size, content: new FileRegion(fd, 0, size) });
        } else {
          throw new StateError('BAD_INPUT', join(dir, path), 'an OCI layout holds directories and regular files only; this is neither');
        }
      }
    };
    walk('');
    await writeTar(entries, dest);
    const fh = await open(dest, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}
