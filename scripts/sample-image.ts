/**
 * The bundled sample image, described declaratively: three layers that show a whiteout, an opaque
 * directory, a hard link, a VOLUME with content and a file big enough (1 MiB) to make copy-up
 * cost visible. `npm run build:images` (scripts/build-images.ts) writes images/sample.tar, a
 * docker-archive; the bytes
 * are the same on every run (fixed times, fixed content), which a test checks.
 */
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { Entry } from '../src/entry.js';
import { writeImage, type LayerBlob } from '../src/out/image-write.js';
import { writeTar } from '../src/out/tar-write.js';
import { BufferSource } from '../src/source.js';

const T = Date.UTC(2024, 0, 1);
const d = (path: string, mode = 0o755): Entry => ({ path, type: 'dir', mode, uid: 0, gid: 0, mtime: T, size: 0 });
const f = (path: string, text: string | Buffer, mode = 0o644): Entry => {
  const buf = typeof text === 'string' ? Buffer.from(text) : text;
  return { path, type: 'file', mode, uid: 0, gid: 0, mtime: T, size: buf.length, content: new BufferSource(buf) };
};
const l = (path: string, target: string): Entry => ({ path, type: 'hardlink', linkname: target, mode: 0o755, uid: 0, gid: 0, mtime: T, size: 0 });
const s = (path: string, target: string): Entry => ({ path, type: 'symlink', linkname: target, mode: 0o777, uid: 0, gid: 0, mtime: T, size: 0 });
const wh = (path: string): Entry => ({ path, type: 'whiteout', mode: 0, uid: 0, gid: 0, mtime: 0, size: 0 });
const opq = (path: string): Entry => ({ path, type: 'opaque', mode: 0, uid: 0, gid: 0, mtime: 0, size: 0 });

/** 1 MiB of deterministic, incompressible-looking bytes (a sha256 chain). */
function bigFile(): Buffer {
  const out = Buffer.alloc(1 << 20);
  let block = createHash('sha256').update('layerfs sample').digest();
  for (let i = 0; i < out.length; i += 32) {
    block.copy(out, i);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export const sampleLayers: Array<{ createdBy: string; entries: Entry[] }> = [
  {
    createdBy: 'ADD rootfs: base files, a hard link, a 1 MiB library, web content',
    entries: [
      d('etc'),
      f('etc/os-release', 'NAME="layerfs sample"\nVERSION_ID=1\n'),
      f('etc/motd', 'Welcome to the sample image.\n'),
      d('usr'),
      d('usr/bin'),
      f('usr/bin/app', '#!/bin/sh\necho sample app\n', 0o755),
      l('usr/bin/app-link', 'usr/bin/app'),
      d('usr/lib'),
      f('usr/lib/libbig.so', bigFile()),
      s('usr/lib/libbig.so.1', 'libbig.so'),
      d('usr/share'),
      d('usr/share/doc'),
      d('usr/share/doc/app'),
      f('usr/share/doc/app/README', 'The sample app.\n'),
      d('srv'),
      d('srv/www'),
      f('srv/www/index.html', '<h1>seeded from the image</h1>\n'),
      d('srv/www/assets'),
      f('srv/www/assets/logo.txt', '[logo]\n'),
      d('var'),
      d('var/cache'),
      d('var/cache/app'),
      f('var/cache/app/old-1', 'stale\n'),
      f('var/cache/app/old-2', 'stale\n'),
      d('tmp', 0o1777),
    ],
  },
  {
    createdBy: 'RUN configure: edit motd, add a config, delete the docs (whiteout)',
    entries: [d('etc'), f('etc/motd', 'Welcome to the sample image, configured.\n'), f('etc/app.conf', 'port=8080\n', 0o600), d('usr'), d('usr/share'), wh('usr/share/doc')],
  },
  {
    createdBy: 'RUN reset cache: the cache directory is recreated (opaque)',
    entries: [d('var'), d('var/cache'), d('var/cache/app'), opq('var/cache/app'), f('var/cache/app/fresh', 'fresh\n')],
  },
];

export const sampleConfig = {
  architecture: 'amd64',
  os: 'linux',
  created: new Date(T).toISOString(),
  config: {
    Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'APP_HOME=/srv/www'],
    WorkingDir: '/srv/www',
    Cmd: ['/usr/bin/app'],
    Volumes: { '/srv/www': {} },
  },
};

async function tarBuffer(entries: Entry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  await writeTar(entries, sink);
  return Buffer.concat(chunks);
}

export async function buildSample(dest: string): Promise<void> {
  const layers: LayerBlob[] = [];
  const diffIds: string[] = [];
  for (const layer of sampleLayers) {
    const tar = await tarBuffer(layer.entries);
    const digest = 'sha256:' + createHash('sha256').update(tar).digest('hex');
    const src = new BufferSource(tar);
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: tar.length, blob: src, diffId: digest, tar: src });
    diffIds.push(digest);
  }
  const config = {
    ...sampleConfig,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: sampleLayers.map((l) => ({ created: sampleConfig.created, created_by: l.createdBy })),
  };
  await writeImage({ config, layers, tag: 'localhost/layerfs-sample:latest' }, dest, 'docker-archive');
}
