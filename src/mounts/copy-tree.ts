/**
 * Copies a directory tree from one core to another: what seeding a new volume from the image does
 * (DKR-2: files, modes, owners, symlinks and nested directories; the volume's root takes the image
 * directory's mode and owner). Hard links inside the tree stay hard links. Times are kept.
 */
import { constants as C } from 'node:fs';
import type { Core, StatInfo } from '../core/core.js';

const CHUNK = 1 << 20;

function copyData(from: Core, src: string, to: Core, dest: string, st: StatInfo): void {
  const inFd = from.open(src, C.O_RDONLY, 0);
  try {
    const outFd = to.open(dest, C.O_WRONLY | C.O_CREAT | C.O_TRUNC, st.mode & 0o7777);
    try {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(st.size, 1)));
      for (let pos = 0; ; ) {
        const n = from.read(inFd, buf, 0, buf.length, pos);
        if (n <= 0) break;
        to.write(outFd, buf, 0, n, pos);
        pos += n;
      }
    } finally {
      to.close(outFd);
    }
  } finally {
    from.close(inFd);
  }
}

/** Applies owner, mode (after chown, which may clear setuid) and times of `st` to `dest`. */
function setMeta(to: Core, dest: string, st: StatInfo, symlink: boolean): void {
  to.chown(dest, st.uid, st.gid, !symlink);
  if (!symlink) to.chmod(dest, st.mode & 0o7777, true);
  to.utimes(dest, st.atimeMs, st.mtimeMs, !symlink);
}

/**
 * Copies the contents of directory `src` in `from` into the existing directory `dest` in `to`,
 * then gives `dest` the attributes of `src`. Returns the number of objects copied; `onCopy` is
 * told each one (its source path, its path under `dest`, its stat) as it is copied.
 */
export function copyTree(from: Core, src: string, to: Core, dest: string, onCopy?: (srcPath: string, rel: string, st: StatInfo) => void): number {
  const links = new Map<number, string>();
  let count = 0;
  const walk = (s: string, d: string): void => {
    for (const entry of from.readdir(s)) {
      const sp = `${s === '/' ? '' : s}/${entry.name}`;
      const dp = `${d === '/' ? '' : d}/${entry.name}`;
      const st = from.stat(sp, false);
      count++;
      onCopy?.(sp, dp.slice(dest === '/' ? 0 : dest.length), st);
      const type = st.mode & C.S_IFMT;
      if (type === C.S_IFDIR) {
        to.mkdir(dp, 0o700);
        walk(sp, dp);
        setMeta(to, dp, st, false);
      } else if (type === C.S_IFLNK) {
        to.symlink(from.readlink(sp), dp);
        setMeta(to, dp, st, true);
      } else if (type === C.S_IFREG) {
        const first = st.nlink > 1 ? links.get(st.ino) : undefined;
        if (first) {
          to.link(first, dp);
          continue;
        }
        if (st.nlink > 1) links.set(st.ino, dp);
        copyData(from, sp, to, dp, st);
        setMeta(to, dp, st, false);
      }
      // Devices, FIFOs and sockets are not copied: a volume holds data (the Core has no mknod).
    }
  };
  walk(src, dest);
  setMeta(to, dest, from.stat(src, true), false);
  return count;
}
