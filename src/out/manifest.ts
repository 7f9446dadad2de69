/**
 * The manifest format of the reference fixtures (test/fixtures/README.md, scripts/fixtures/manifest.py):
 * one line per path, sorted by raw path bytes, tab-separated
 * `path type mode uid gid size sha256 target linkgroup xattrs`. Tests compare views with the
 * truth files through it; users get it from `view.manifest()`.
 */
import { createHash } from 'node:crypto';
import type { Entry } from '../entry.js';
import { readAll } from '../source.js';
import { nameBytes } from '../archive/names.js';

const HEADER = '#path\ttype\tmode\tuid\tgid\tsize\tsha256\ttarget\tlinkgroup\txattrs\n';
const TYPE_CHAR: Record<string, string> = { file: 'f', dir: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p', socket: 's' };

/** manifest.py `esc`: backslash, TAB, LF, control bytes and invalid UTF-8 escaped; valid UTF-8 kept. */
export function esc(b: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c === 0x5c) {
      out += '\\\\';
      i++;
      continue;
    }
    if (c === 0x09) {
      out += '\\t';
      i++;
      continue;
    }
    if (c === 0x0a) {
      out += '\\n';
      i++;
      continue;
    }
    if (c < 0x20 || c === 0x7f) {
      out += '\\x' + c.toString(16).padStart(2, '0');
      i++;
      continue;
    }
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    const len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len && i + len <= b.length) {
      const seq = b.subarray(i, i + len);
      const text = Buffer.from(seq).toString('utf8');
      if (!text.includes('\ufffd') && Buffer.byteLength(text) === len) {
        out += text;
        i += len;
        continue;
      }
    }
    out += '\\x' + c.toString(16).padStart(2, '0');
    i++;
  }
  return out;
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

const SKIP_XATTRS = ['trusted.', 'security.selinux', 'system.'];

function xattrField(x: Entry['xattrs']): string {
  if (!x) return '-';
  const items = Object.entries(x)
    .filter(([k]) => !SKIP_XATTRS.some((p) => k.startsWith(p)))
    .map(([k, v]) => [Buffer.from(k), `${esc(Buffer.from(k))}=0x${v.toString('hex')}`] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]));
  return items.length ? items.map((i) => i[1]).join(',') : '-';
}

/** Builds the manifest of a flattened tree given as entries (hard links as `hardlink` entries). */
export function manifest(entries: Iterable<Entry>): string {
  const rows: Array<{ key: Buffer; e: Entry }> = [];
  const groups = new Map<string, Buffer[]>();
  for (const e of entries) {
    const key = Buffer.concat([Buffer.from('/'), nameBytes(e.path)]);
    rows.push({ key, e });
    const owner = e.type === 'hardlink' ? e.linkname! : e.path;
    if (e.type !== 'dir') groups.set(owner, [...(groups.get(owner) ?? []), key]);
  }
  const byPath = new Map(rows.map((r) => [r.e.path, r.e]));
  const groupName = new Map<string, string>();
  for (const [owner, keys] of groups) {
    if (keys.length > 1) groupName.set(owner, esc(keys.reduce((a, b) => (Buffer.compare(a, b) <= 0 ? a : b))));
  }
  rows.sort((a, b) => Buffer.compare(a.key, b.key));
  let out = HEADER;
  for (const { key, e } of rows) {
    const owner = e.type === 'hardlink' ? e.linkname! : e.path;
    const real = e.type === 'hardlink' ? byPath.get(owner)! : e;
    let size = '-',
      sum = '-',
      target = '-';
    if (real.type === 'file') {
      size = String(real.size);
      sum = sha256(readAll(real.content!));
    } else if (real.type === 'symlink') {
      const t = nameBytes(real.linkname ?? '');
      sum = sha256(t);
      target = esc(t);
    } else if (real.type === 'char' || real.type === 'block') {
      target = `${real.devmajor ?? 0}:${real.devminor ?? 0}`;
    }
    const mode = (real.mode & 0o7777).toString(8).padStart(4, '0');
    out += [esc(key), TYPE_CHAR[real.type], mode, real.uid, real.gid, size, sum, target, real.type === 'dir' ? '-' : (groupName.get(owner) ?? '-'), xattrField(real.xattrs)].join('\t') + '\n';
  }
  return out;
}
