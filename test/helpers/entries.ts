/** Hand-written layer entries for unit tests of the layer and union code (no archive involved). */
import type { Entry } from '../../src/entry.js';
import { BufferSource } from '../../src/source.js';

const base = { mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000_000, size: 0 };

export const dir = (path: string, mode = 0o755): Entry => ({ ...base, path, type: 'dir', mode });
export const file = (path: string, text: string | Buffer, mode = 0o644): Entry => {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return { ...base, path, type: 'file', mode, size: buf.length, content: new BufferSource(buf) };
};
export const symlink = (path: string, target: string): Entry => ({ ...base, path, type: 'symlink', mode: 0o777, linkname: target });
export const hardlink = (path: string, target: string): Entry => ({ ...base, path, type: 'hardlink', linkname: target });
export const whiteout = (path: string): Entry => ({ ...base, path, type: 'whiteout', mode: 0 });
export const opaque = (path: string): Entry => ({ ...base, path, type: 'opaque', mode: 0 });
