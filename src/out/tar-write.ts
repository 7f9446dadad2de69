/**
 * Writes entries (the one entry model) as a tar stream with tar-stream's packer: whiteouts as
 * `.wh.NAME` files and opaque directories as `DIR/.wh..wh..opq`, the OCI layer form (OCI-5, OCI-7);
 * xattrs as PAX `SCHILY.xattr.*` records; long names through PAX (tar-stream does that itself).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform, type Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { pack as createPack, type Header, type Pack } from 'tar-stream';
import { OPAQUE_MARKER, WHITEOUT_PREFIX, type Entry } from '../entry.js';

type TarHeader = Partial<Header> & { name: string; pax?: Record<string, string> };

const TYPES: Record<string, Header['type']> = {
  file: 'file', dir: 'directory', symlink: 'symlink', hardlink: 'link', char: 'character-device',
  block: 'block-device', fifo: 'fifo', whiteout: 'file', opaque: 'file',
};

function tarName(e: Entry): string {
  const slash = e.path.lastIndexOf('/');
  const dir = slash < 0 ? '' : e.path.slice(0, slash + 1);
  if (e.type === 'opaque') return e.path === '' ? OPAQUE_MARKER : `${e.path}/${OPAQUE_MARKER}`;
  if (e.type === 'whiteout') return dir + WHITEOUT_PREFIX + e.path.slice(slash + 1);
  return e.path === '' ? './' : e.path;
}

export function headerOf(e: Entry): TarHeader {
  const marker = e.type === 'whiteout' || e.type === 'opaque';
  const h: TarHeader = {
    name: tarName(e),
    type: TYPES[e.type],
    mode: marker ? 0 : e.mode,
    uid: marker ? 0 : e.uid,
    gid: marker ? 0 : e.gid,
    mtime: new Date(marker ? 0 : e.mtime),
    size: e.type === 'file' ? e.size : 0,
  };
  if (e.type === 'symlink' || e.type === 'hardlink') h.linkname = e.linkname;
  if (e.type === 'char' || e.type === 'block') {
    h.devmajor = e.devmajor;
    h.devminor = e.devminor;
  }
  if (e.xattrs && Object.keys(e.xattrs).length) {
    h.pax = {};
    for (const [k, v] of Object.entries(e.xattrs)) h.pax[`SCHILY.xattr.${k}`] = v.toString('utf8');
  }
  return h;
}

const CHUNK = 1 << 20;
const EMPTY = Buffer.alloc(0);

/** Feeds entries into a packer, reading file data chunk by chunk from each entry's source. */
async function feed(pack: Pack, entries: Iterable<Entry>): Promise<void> {
  for (const e of entries) {
    const header = headerOf(e);
    if (header.type !== 'file' || e.size === 0) {
      // A 'file' header (also whiteouts and opaque markers) waits for its body: give it an empty one.
      await new Promise<void>((res, rej) => {
        const done = (err?: Error | null) => (err ? rej(err) : res());
        if (header.type === 'file') pack.entry(header, EMPTY, done);
        else pack.entry(header, done);
      });
      continue;
    }
    await new Promise<void>((res, rej) => {
      const sink = pack.entry(header, (err) => (err ? rej(err) : res()));
      let pos = 0;
      const pump = (): void => {
        while (pos < e.size) {
          const buf = Buffer.allocUnsafe(Math.min(CHUNK, e.size - pos));
          const n = e.content!.read(buf, 0, buf.length, pos);
          if (n <= 0) return void sink.destroy(new Error(`short read of ${e.path}: ${pos} of ${e.size} bytes`));
          pos += n;
          if (!sink.write(n === buf.length ? buf : buf.subarray(0, n))) return void sink.once('drain', pump);
        }
        sink.end(undefined);
      };
      pump();
    });
  }
  pack.finalize();
}

export interface Written {
  /** sha256 of the bytes written (the blob digest). */
  digest: string;
  size: number;
  /** sha256 of the uncompressed tar (the diff_id); equal to digest when not compressed. */
  diffId: string;
}

function hasher(into: { hash: ReturnType<typeof createHash>; size: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      into.hash.update(chunk);
      into.size += chunk.length;
      cb(null, chunk);
    },
  });
}

/** Writes a tar of `entries` to `dest` (a path or a stream), optionally gzip-compressed. */
export async function writeTar(entries: Iterable<Entry>, dest: string | Writable, gzip = false): Promise<Written> {
  const pack = createPack();
  const raw = { hash: createHash('sha256'), size: 0 };
  const out = { hash: createHash('sha256'), size: 0 };
  const sink = typeof dest === 'string' ? createWriteStream(dest) : dest;
  const stages: NodeJS.ReadWriteStream[] = [hasher(raw)];
  if (gzip) stages.push(createGzip(), hasher(out));
  const done = pipeline(pack, ...(stages as [Transform]), sink);
  await Promise.all([feed(pack, entries), done]);
  const diffId = 'sha256:' + raw.hash.digest('hex');
  return gzip ? { digest: 'sha256:' + out.hash.digest('hex'), size: out.size, diffId } : { digest: diffId, size: raw.size, diffId };
}
