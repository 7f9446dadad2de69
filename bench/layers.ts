/** Synthetic layer tarballs for the benchmark, written with the project's own tar writer. */
import { PassThrough } from 'node:stream';
import type { Entry } from '../src/entry.js';
import { writeTar } from '../src/out/tar-write.js';
import type { ByteSource } from '../src/source.js';

const T = Date.UTC(2024, 0, 1);
export const dir = (path: string): Entry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: T, size: 0 });
export const file = (path: string, content: ByteSource): Entry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: T, size: content.size, content });

export async function tarBuffer(entries: Entry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  await writeTar(entries, sink);
  return Buffer.concat(chunks);
}

/** A source of `size` pseudo-random bytes without holding them (for very large synthetic files). */
export function patternSource(size: number): ByteSource {
  const block = Buffer.alloc(1 << 16);
  for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24;
  return {
    size,
    read(buf, off, len, pos) {
      const n = Math.max(0, Math.min(len, size - pos));
      for (let done = 0; done < n; ) {
        const at = (pos + done) % block.length;
        const k = Math.min(n - done, block.length - at);
        buf.set(block.subarray(at, at + k), off + done);
        done += k;
      }
      return n;
    },
  };
}
