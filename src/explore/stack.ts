/**
 * An image's layers as trees, and the flattened view after any number of them, as rows in the
 * fixtures' manifest terms (path type mode uid gid size sha256 target linkgroup xattrs). Every
 * explore command reads these rows, so "what a path is" means one thing everywhere.
 *
 * Rules:
 * - Paths are shown as the manifest shows them: '/' + the raw name bytes, escaped like
 *   manifest.py (`\xHH` for bytes that are not UTF-8).
 * - A file's sha256 is computed only when asked for, once per file data (cached).
 * - The trees are built here from the image's entries (not borrowed from a View), so the inodes
 *   of step N and of layer N can be compared by identity.
 */
import { createHash } from 'node:crypto';
import type { LoadedImage } from '../image/index.js';
import { decodeName, nameBytes } from '../archive/names.js';
import { buildLayer, type LayerTree } from '../layer/build.js';
import type { FileData } from '../layer/data.js';
import { flatten } from '../layer/flatten.js';
import { devMajor, devMinor, isWhiteout, type Inode } from '../layer/inode.js';
import { esc } from '../out/manifest.js';

export const TYPE_CHAR: Record<string, string> = { file: 'f', dir: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p', socket: 's' };

export interface Row {
  /** Escaped display path, '/' first. */
  path: string;
  /** The raw bytes of the path ('/' first), for byte-order sorting. */
  key: Buffer;
  /** The path as the library names it (no leading '/'). */
  raw: string;
  ino: Inode;
  type: string;
  mode: string;
  uid: number;
  gid: number;
  /** Regular files only; 0 otherwise. */
  size: number;
  target: string;
  linkgroup: string;
  xattrs: string;
  /** 1-based layer the visible object comes from. */
  layer: number;
}

const hashes = new WeakMap<FileData, string>();

/** sha256 (hex) of a file's data, read in 1 MiB chunks, cached per data object. */
export function contentHash(ino: Inode): string {
  const data = ino.data!;
  const cached = hashes.get(data);
  if (cached) return cached;
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let pos = 0; pos < data.size; ) {
    const n = data.read(buf, 0, Math.min(buf.length, data.size - pos), pos);
    if (n <= 0) break;
    h.update(buf.subarray(0, n));
    pos += n;
  }
  const hex = h.digest('hex');
  hashes.set(data, hex);
  return hex;
}

const SKIP_XATTRS = ['trusted.', 'security.selinux', 'system.'];

/** The manifest's xattrs field: `name=0xHEX` sorted by name bytes, or '-'. */
function xattrField(x: Map<string, Buffer> | undefined): string {
  if (!x?.size) return '-';
  const items = [...x]
    .filter(([k]) => !SKIP_XATTRS.some((p) => k.startsWith(p)))
    .map(([k, v]) => [Buffer.from(k), `${esc(Buffer.from(k))}=0x${v.toString('hex')}`] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]));
  return items.length ? items.map((i) => i[1]).join(',') : '-';
}

function rowOf(child: Inode, raw: string): Row {
  const key = Buffer.concat([Buffer.from('/'), nameBytes(raw)]);
  let target = '-';
  if (child.type === 'symlink') target = esc(nameBytes(child.target));
  if (child.type === 'char' || child.type === 'block') target = `${devMajor(child.rdev)}:${devMinor(child.rdev)}`;
  return {
    path: esc(key),
    key,
    raw,
    ino: child,
    type: TYPE_CHAR[child.type],
    mode: (child.mode & 0o7777).toString(8).padStart(4, '0'),
    uid: child.uid,
    gid: child.gid,
    size: child.type === 'file' ? (child.data?.size ?? 0) : 0,
    target,
    linkgroup: '-',
    xattrs: xattrField(child.xattrs),
    layer: child.layer + 1,
  };
}

/** Rows of what is below `dir` (`depth` levels; all without), appended to `rows`; non-directories also to `links`. */
function collectRows(dir: Inode, prefix: string, depth: number, rows: Row[], links: Map<Inode, Row[]>): void {
  for (const [name, child] of dir.children!) {
    if (isWhiteout(child)) continue;
    const raw = prefix + name;
    const row = rowOf(child, raw);
    rows.push(row);
    if (child.isDir) {
      if (depth !== 1) collectRows(child, raw + '/', depth - 1, rows, links);
    } else {
      const group = links.get(child);
      if (group) group.push(row);
      else links.set(child, [row]);
    }
  }
}

/** Every visible object of a flattened tree as rows, sorted by raw path bytes. */
export function rowsOf(root: Inode): Map<string, Row> {
  const rows: Row[] = [];
  const links = new Map<Inode, Row[]>();
  collectRows(root, '', 0, rows, links);
  // Rule (manifest.py): names sharing an inode carry the smallest path of their group.
  for (const group of links.values()) {
    if (group.length < 2) continue;
    const first = group.reduce((a, b) => (Buffer.compare(a.key, b.key) <= 0 ? a : b));
    for (const r of group) r.linkgroup = first.path;
  }
  rows.sort((a, b) => Buffer.compare(a.key, b.key));
  return new Map(rows.map((r) => [r.path, r]));
}

/** The layers of one image, with the flattened view after each step (built once, on demand). */
export class Stack {
  readonly trees: LayerTree[];
  private readonly roots = new Map<number, Inode>();
  private readonly rowCache = new Map<number, Map<string, Row>>();

  constructor(readonly image: LoadedImage) {
    this.trees = image.layers.map((l, i) => buildLayer(l.entries, i, image.file));
    // Flatten everything once first: hard links to lower layers are bound on the first pass.
    this.roots.set(this.trees.length, flatten(this.trees));
  }

  get count(): number {
    return this.trees.length;
  }

  /** Rule: layer numbers are 1-based, 0 is the empty filesystem before the first layer. */
  checkStep(n: number, what = 'layer'): number {
    if (!Number.isInteger(n) || n < 0 || n > this.count) throw new RangeError(`${what} must be 0..${this.count}, got ${n}`);
    return n;
  }

  root(n: number): Inode {
    this.checkStep(n);
    let r = this.roots.get(n);
    if (!r) {
      r = flatten(this.trees.slice(0, n));
      this.roots.set(n, r);
    }
    return r;
  }

  /**
   * The rows of `base` and of what is below it (`depth` levels; all without), the same as those of
   * rows(n), without walking the rest of the tree: undefined (use rows) when a hard link is among
   * them (its linkgroup names the group's smallest path, wherever that is) or `base` is escaped.
   * A base that is not there gives no rows.
   */
  rowsUnder(n: number, base: string, depth = 0): Map<string, Row> | undefined {
    if (this.rowCache.has(n) || base.includes('\\')) return undefined;
    let node: Inode = this.root(n);
    const names = splitPath(base);
    for (const name of names) {
      const next = node.isDir ? node.children!.get(name) : undefined;
      if (next === undefined || isWhiteout(next)) return new Map();
      node = next;
    }
    const rows: Row[] = [];
    const links = new Map<Inode, Row[]>();
    if (names.length > 0) {
      const self = rowOf(node, names.join('/'));
      rows.push(self);
      if (!node.isDir) links.set(node, [self]);
      else collectRows(node, `${names.join('/')}/`, depth, rows, links);
    } else collectRows(node, '', depth, rows, links);
    for (const ino of links.keys()) if (ino.nlink !== 1) return undefined;
    rows.sort((a, b) => Buffer.compare(a.key, b.key));
    return new Map(rows.map((r) => [r.path, r]));
  }

  rows(n: number = this.count): Map<string, Row> {
    let r = this.rowCache.get(n);
    if (!r) {
      r = rowsOf(this.root(n));
      this.rowCache.set(n, r);
    }
    return r;
  }
}

/** Splits a display path ('/a/b') into the library's names; '/' and '' are the root. */
export function splitPath(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

/** Normalises a path typed by a user to the display form: '/a/b', '/' for the root. */
export function normalPath(path: string): string {
  const parts = splitPath(path);
  if (parts.includes('..')) throw new RangeError(`path may not contain '..': ${path}`);
  return '/' + parts.join('/');
}

/**
 * The inverse of the display form: a display path ('/' first, `\\`, `\t`, `\n`, `\xHH` escaped as
 * manifest.py writes them) back to the library's name (no leading '/'), byte for byte.
 */
export function rawPath(display: string): string {
  const bytes: number[] = [];
  const plain = Buffer.from(display, 'utf8');
  for (let i = 0; i < plain.length; i++) {
    const c = plain[i];
    if (c !== 0x5c || i + 1 >= plain.length) {
      bytes.push(c);
      continue;
    }
    const n = plain[i + 1];
    const hex = plain.subarray(i + 2, i + 4).toString('latin1');
    if (n === 0x5c) {
      bytes.push(0x5c);
      i++;
    } else if (n === 0x74) {
      bytes.push(0x09);
      i++;
    } else if (n === 0x6e) {
      bytes.push(0x0a);
      i++;
    } else if (n === 0x78 && /^[0-9a-f]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else bytes.push(c);
  }
  return splitPath(decodeName(Buffer.from(bytes))).join('/');
}
