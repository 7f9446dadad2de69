/**
 * A docker-archive with gzip layers made here (for the open-cache tests that need layers of a few
 * MiB): each layer holds `files` files of `size` pseudo-random bytes (incompressible, so the
 * stored blob is as big as its content) under dir<i>/.
 */
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Entry } from '../../src/entry.js';
import { writeTar } from '../../src/out/tar-write.js';
import { BufferSource } from '../../src/source.js';
import { tarBuffer } from '../../bench/layers.js';

const T = Date.UTC(2024, 0, 1);
const dir = (path: string): Entry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: T, size: 0 });
const file = (path: string, data: Buffer): Entry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: T, size: data.length, content: new BufferSource(data) });
const hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export async function gzipImage(path: string, layers: number, files: number, size: number): Promise<void> {
  const diffIds: string[] = [];
  const blobs: Buffer[] = [];
  for (let i = 0; i < layers; i++) {
    const entries = [dir(`dir${i}`), ...Array.from({ length: files }, (_, k) => file(`dir${i}/f${k}`, randomBytes(size)))];
    const tar = await tarBuffer(entries);
    diffIds.push(`sha256:${hex(tar)}`);
    blobs.push(gzipSync(tar, { level: 1 }));
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds }, history: [] }));
  const entries: Entry[] = [dir('blobs'), dir('blobs/sha256'), file(`blobs/sha256/${hex(config)}`, config)];
  for (const b of blobs) entries.push(file(`blobs/sha256/${hex(b)}`, b));
  entries.push(file('manifest.json', Buffer.from(JSON.stringify([{ Config: `blobs/sha256/${hex(config)}`, RepoTags: ['test/cache:latest'], Layers: blobs.map((b) => `blobs/sha256/${hex(b)}`) }]))));
  await writeTar(entries, path);
}
