/**
 * Root's permission override for a memfs volume.
 *
 * memfs deviation: memfs checks permission bits for root as for anyone (a 0o400 file cannot be
 * written by root, a 0o000 one not even read). Linux gives root CAP_DAC_OVERRIDE: it may read and
 * write anything and search any directory; executing a file still needs an x bit. The override is
 * installed on every inode of the volume, present and future, through memfs's public Superblock
 * (`vol._core`: `inodes`, `createNode`), and applies when memfs asks for uid 0.
 */
import type { Volume } from 'memfs';

/** The parts of memfs's Superblock and Node (@jsonjoy.com/fs-core) the root override uses. */
interface PermNode {
  mode: number;
  isDirectory(): boolean;
  canRead(uid?: number, gid?: number): boolean;
  canWrite(uid?: number, gid?: number): boolean;
  canExecute(uid?: number, gid?: number): boolean;
}
interface Superblock {
  inodes: Record<number, PermNode>;
  createNode(mode: number): PermNode;
  process: { getuid?(): number };
}

const overridden = new WeakSet<object>();

/**
 * memfs deviation: memfs checks permission bits for root as for anyone. Each inode's checks get
 * root's override; memfs calls them with the volume's uid or, without arguments, the process's.
 */
export function grantRoot(vol: Volume): void {
  const sb = (vol as unknown as { _core: Superblock })._core;
  if (overridden.has(sb)) return;
  overridden.add(sb);
  const uidOf = (uid: number | undefined) => uid ?? sb.process.getuid?.() ?? 0;
  const grant = (n: PermNode): PermNode => {
    const { canRead, canWrite, canExecute } = n;
    n.canRead = (uid, gid) => uidOf(uid) === 0 || canRead.call(n, uid, gid);
    n.canWrite = (uid, gid) => uidOf(uid) === 0 || canWrite.call(n, uid, gid);
    n.canExecute = (uid, gid) => (uidOf(uid) === 0 && (n.isDirectory() || (n.mode & 0o111) !== 0)) || canExecute.call(n, uid, gid);
    return n;
  };
  Object.values(sb.inodes).forEach(grant);
  const createNode = sb.createNode.bind(sb);
  sb.createNode = (mode) => grant(createNode(mode));
}
