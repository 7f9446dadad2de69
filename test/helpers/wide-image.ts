/**
 * An image with one very wide directory (/wide holding N files), for the web page's virtual list
 * (test/web-browser.test.ts) and its benchmark (bench/page.ts). Written with the project's own
 * writers as a docker-archive; the count of entries is what the page must show.
 */
import { createHash } from 'node:crypto';
import type { Entry } from '../../src/entry.js';
import { writeImage } from '../../src/out/image-write.js';
import { BufferSource } from '../../src/source.js';
import { tarBuffer } from '../../bench/layers.js';

const T = Date.UTC(2024, 0, 1);

/** The name of entry i of /wide: zero-padded so name order is index order. */
export const wideName = (i: number): string => `entry-${String(i).padStart(5, '0')}`;

export async function writeWideImage(dest: string, n: number, tag = 'localhost/wide:latest'): Promise<void> {
  const entries: Entry[] = [
    { path: 'etc', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: T, size: 0 },
    { path: 'etc/hostname', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: T, size: 5, content: new BufferSource(Buffer.from('wide\n')) },
    { path: 'wide', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: T, size: 0 },
  ];
  const one = new BufferSource(Buffer.from('x\n'));
  for (let i = 0; i < n; i++) entries.push({ path: `wide/${wideName(i)}`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: T, size: 2, content: one });
  const tar = await tarBuffer(entries);
  const diffId = 'sha256:' + createHash('sha256').update(tar).digest('hex');
  const layer = new BufferSource(tar);
  await writeImage(
    {
      config: {
        architecture: 'amd64',
        os: 'linux',
        config: {},
        rootfs: { type: 'layers', diff_ids: [diffId] },
        history: [{ created: '2024-01-01T00:00:00Z', created_by: `wide directory: ${n} entries` }],
      },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: diffId, size: tar.length, blob: layer, diffId, tar: layer }],
      tag,
    },
    dest,
    'docker-archive',
  );
}
