/**
 * images/sample.tar is what scripts/sample-image.ts describes: rebuilding it gives the same bytes,
 * and real tools read it as the description says (layerfs writes it, so layerfs cannot be the judge):
 * podman loads it and mounts the tree, umoci unpacks it, and both trees equal the listing below,
 * written by hand from the description's three layers (the whiteout of /usr/share/doc and the opaque
 * /var/cache/app applied); podman's config carries the description's Env, Cmd, WorkingDir and Volumes.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSample, sampleConfig } from '../scripts/sample-image.js';
import { requireOrSkip } from './helpers/require.js';
import { manifestOf, run } from './helpers/tools.js';

const SAMPLE = fileURLToPath(new URL('../images/sample.tar', import.meta.url));

test('the bundled sample image rebuilds byte for byte from its description', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-sample-'));
  try {
    await buildSample(join(dir, 'sample.tar'));
    t.true(readFileSync(join(dir, 'sample.tar')).equals(readFileSync(SAMPLE)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const text = (path: string, content: string, mode = '0644', group = '-') => `${path}\tf\t${mode}\t0\t0\t${Buffer.byteLength(content)}\t${sha(content)}\t-\t${group}\t-`;
const dir = (path: string, mode = '0755') => `${path}\td\t${mode}\t0\t0\t-\t-\t-\t-\t-`;

/** The flattened tree of the description: path, type, mode, owner, size, content (libbig.so: size only). */
const EXPECTED = [
  dir('/etc'),
  text('/etc/app.conf', 'port=8080\n', '0600'),
  text('/etc/motd', 'Welcome to the sample image, configured.\n'),
  text('/etc/os-release', 'NAME="layerfs sample"\nVERSION_ID=1\n'),
  dir('/srv'),
  dir('/srv/www'),
  dir('/srv/www/assets'),
  text('/srv/www/assets/logo.txt', '[logo]\n'),
  text('/srv/www/index.html', '<h1>seeded from the image</h1>\n'),
  dir('/tmp', '1777'),
  dir('/usr'),
  dir('/usr/bin'),
  text('/usr/bin/app', '#!/bin/sh\necho sample app\n', '0755', '/usr/bin/app'),
  text('/usr/bin/app-link', '#!/bin/sh\necho sample app\n', '0755', '/usr/bin/app'),
  dir('/usr/lib'),
  'LIBBIG',
  `/usr/lib/libbig.so.1\tl\t0777\t0\t0\t-\t${sha('libbig.so')}\tlibbig.so\t-\t-`,
  dir('/usr/share'),
  dir('/var'),
  dir('/var/cache'),
  dir('/var/cache/app'),
  text('/var/cache/app/fresh', 'fresh\n'),
];

/** The manifest rows, libbig.so reduced to its size (its content is 1 MiB of a sha256 chain). */
function rows(manifest: string): string[] {
  return manifest
    .split('\n')
    .filter((l) => l.startsWith('/'))
    .map((l) => {
      const c = l.split('\t');
      return c[0] === '/usr/lib/libbig.so' ? (c[1] === 'f' && c[5] === '1048576' && c[2] === '0644' ? 'LIBBIG' : `LIBBIG? ${l}`) : l;
    });
}

function toolsMissing(): string | undefined {
  const missing = ['podman', 'skopeo', 'umoci'].filter((c) => spawnSync(c, ['--version']).status !== 0);
  if (missing.length) return `${missing.join(', ')} not installed (.ci/run installs them)`;
  if (process.getuid?.() !== 0) return 'podman image mount and umoci unpack need root here';
  return undefined;
}

test('OCI-1 OCI-5 OCI-7 the bundled sample image, loaded by podman and unpacked by umoci, is the tree its description gives', async (t) => {
  if (!requireOrSkip(t, toolsMissing())) return;
  const work = mkdtempSync(join('/var/tmp', 'layerfs-sample-tools-'));
  // A storage of the test's own: never the machine's images.
  const podman = ['--root', join(work, 'root'), '--runroot', join(work, 'run'), '--tmpdir', join(work, 'tmp'), '--storage-driver', 'overlay'];
  try {
    const loaded = await run('podman', [...podman, 'load', '-q', '-i', SAMPLE]);
    const ref = /Loaded image(?:\(s\))?: (\S+)/.exec(loaded)?.[1] ?? '';
    t.is(ref, 'localhost/layerfs-sample:latest', loaded);
    const mnt = (await run('podman', [...podman, 'image', 'mount', ref])).trim();
    try {
      t.deepEqual(rows(await manifestOf(mnt)), EXPECTED, 'podman image mount');
    } finally {
      await run('podman', [...podman, 'image', 'unmount', ref]);
    }
    const config = JSON.parse(await run('podman', [...podman, 'image', 'inspect', '--format', '{{json .Config}}', ref]));
    const want = sampleConfig.config;
    t.deepEqual([config.Env, config.Cmd, config.WorkingDir, Object.keys(config.Volumes ?? {})], [want.Env, want.Cmd, want.WorkingDir, Object.keys(want.Volumes)]);

    await run('skopeo', ['copy', '--quiet', `docker-archive:${SAMPLE}`, `oci:${join(work, 'layout')}:sample`]);
    await run('umoci', ['unpack', '--image', `${join(work, 'layout')}:sample`, join(work, 'bundle')]);
    t.deepEqual(rows(await manifestOf(join(work, 'bundle', 'rootfs'))), EXPECTED, 'umoci unpack');
  } finally {
    spawnSync('podman', [...podman, 'system', 'reset', '--force']);
    rmSync(work, { recursive: true, force: true });
  }
});
