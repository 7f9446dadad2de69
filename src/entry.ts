/**
 * The one entry model shared by every stage: a tar header decoded from an archive, a change in a
 * layer, an object in the writable layer, and an entry written by commit or export.
 *
 * Whiteouts are changes, not files: a tar member `dir/.wh.name` becomes `{ type: 'whiteout', path:
 * 'dir/name' }` and `dir/.wh..wh..opq` becomes `{ type: 'opaque', path: 'dir' }` (OCI-5, OCI-7).
 */
import type { ByteSource } from './source.js';

export type FileType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';
export type EntryType = FileType | 'hardlink' | 'whiteout' | 'opaque';

export interface Entry {
  /** Normalised relative path: no leading '/' or './', no trailing '/', '' is the root. */
  path: string;
  type: EntryType;
  /** Permission bits including setuid, setgid and sticky (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Modification time in milliseconds since the epoch. */
  mtime: number;
  /** Size of a regular file's data; 0 for everything else. */
  size: number;
  /** Symlink target as stored (raw), or the normalised path a hard link points at. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes (PAX SCHILY.xattr.*), values as raw bytes. */
  xattrs?: Record<string, Buffer>;
  /** File data, read on demand. Present for regular files. */
  content?: ByteSource;
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
