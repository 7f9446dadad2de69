/**
 * DKR-12 / OCI-3 / OCI-8: images written by `view.commit()` load in the real tools and flatten to
 * exactly what the view showed. The expected tree is never computed by layerfs: podman (`podman
 * image mount`) and umoci (`umoci unpack`) flatten the committed image, `manifest.py` describes
 * their rootfs, and that must equal `view.manifest()` (or truth/rootfs.manifest for an untouched
 * view). skopeo checks that each archive's manifest and config are readable and hold one layer
 * more than the base image. Each committed format is flattened by a real tool in every test; with
 * LAYERFS_COMMIT_ALL=1 (`npm run test:slow`) by both podman and umoci where both read it, and every
 * image is also committed unmodified (npm test: the images no scenario commits).
 *
 * Needs root, podman, skopeo, umoci, GNU tar and python3 (.ci/run installs them); a missing tool
 * fails the test with a message saying so.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveError, openImage, openLayers, type CopyUpStrategy, type View } from '../src/index.js';
import { FIXTURES, IMAGES, steps, truth } from './helpers/fixtures.js';
import { gnuTarLayer, manifestOf, run } from './helpers/tools.js';
import { podmanStore } from './helpers/podman.js';

const FORMATS = ['docker-archive', 'oci-archive', 'oci-layout'] as const;
type Format = (typeof FORMATS)[number];

// ---------------------------------------------------------------------------------------------
// Tools

let toolProblem: string | undefined | null = null;

/** Fails (never skips) when a tool the test needs is missing: CI installs them all. */
function needTools(): void {
  if (toolProblem === null) {
    const missing: string[] = [];
    for (const [cmd, args] of [
      ['podman', ['--version']],
      ['skopeo', ['--version']],
      ['umoci', ['--version']],
      ['tar', ['--version']],
      ['python3', ['--version']],
    ] as const) {
      const r = spawnSync(cmd, args, { encoding: 'utf8' });
      if (r.error || r.status !== 0) missing.push(`${cmd} (${r.error?.message ?? r.stderr.trim()})`);
    }
    if (process.getuid?.() !== 0) missing.push('root privileges (podman image mount and umoci unpack run as root)');
    toolProblem = missing.length ? `these tests need ${missing.join(', ')}; install podman, skopeo, umoci, tar and python3 (.ci/run does it with apt-get)` : undefined;
  }
  if (toolProblem) throw new Error(toolProblem);
}

/** A reference no other test or parallel run uses. */
function uniqueRef(label: string): string {
  return `localhost/layerfs-test-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * One podman load…rmi at a time within this file: images of one fixture share base layers, and
 * `podman rmi` of one image removes a shared layer that a concurrent `podman load` has just
 * decided to reuse (a containers/storage race), failing that load.
 */
let podmanQueue: Promise<unknown> = Promise.resolve();
function podmanExclusive<T>(fn: () => Promise<T>): Promise<T> {
  const result = podmanQueue.then(fn, fn);
  podmanQueue = result.catch(() => undefined);
  return result;
}

/**
 * Loads an archive with `podman load`, checks the image got the committed name, mounts it and
 * returns the manifest of the merged rootfs. Unmounts and removes the image whatever happens.
 */
function podmanFlatten(archive: string, ref: string): Promise<{ manifest: string; id: string }> {
  return podmanExclusive(() => podmanFlattenNow(archive, ref));
}

async function podmanFlattenNow(archive: string, ref: string): Promise<{ manifest: string; id: string }> {
  const out = await run('podman', [...podmanStore(), 'load', '-i', archive]);
  let id: string | undefined;
  try {
    id = (
      await run('podman', [...podmanStore(), 'image', 'inspect', '--format', '{{.Id}}', ref]).catch((e: Error) => {
        throw new Error(`podman load of ${archive} did not create an image named ${ref} (podman said: ${out.trim()}): ${e.message}`);
      })
    ).trim();
    const merged = (await run('podman', [...podmanStore(), 'image', 'mount', id])).trim();
    try {
      return { manifest: await manifestOf(merged), id };
    } finally {
      await run('podman', [...podmanStore(), 'image', 'unmount', id]);
    }
  } finally {
    // Also whatever podman says it loaded, should that not be `ref`.
    const loaded =
      /Loaded image\(?s?\)?: (.+)/
        .exec(out)?.[1]
        .split(',')
        .map((n) => n.trim()) ?? [];
    for (const image of new Set([id ?? ref, ...loaded])) await run('podman', [...podmanStore(), 'rmi', '-f', image]).catch(() => undefined);
  }
}

/** `umoci unpack` of an OCI layout directory; returns the manifest of BUNDLE/rootfs. */
async function umociFlatten(layout: string, ref: string, work: string): Promise<string> {
  const bundle = mkdtempSync(join(work, 'bundle-'));
  rmSync(bundle, { recursive: true });
  await run('umoci', ['unpack', '--image', `${layout}:${ref}`, bundle]);
  return manifestOf(join(bundle, 'rootfs'));
}

/** An oci-archive is an OCI layout in a tar: GNU tar extracts it, then umoci unpacks it. */
async function umociFlattenArchive(archive: string, ref: string, work: string): Promise<string> {
  const layout = mkdtempSync(join(work, 'extracted-layout-'));
  await run('tar', ['-xf', archive, '-C', layout]);
  return umociFlatten(layout, ref, work);
}

interface Inspected {
  Layers: string[];
  Digest: string;
}

/** skopeo reads the manifest and the config: one layer and one diff_id more than the base image. */
async function skopeoCheck(t: ExecutionContext, transport: string, baseLayers: number): Promise<Inspected> {
  const info = JSON.parse(await run('skopeo', ['inspect', transport])) as Inspected;
  const config = JSON.parse(await run('skopeo', ['inspect', '--config', transport])) as { rootfs?: { diff_ids?: string[] } };
  t.is(info.Layers.length, baseLayers + 1, `${transport}: skopeo Layers`);
  t.is(config.rootfs?.diff_ids?.length, baseLayers + 1, `${transport}: config rootfs.diff_ids`);
  return info;
}

/**
 * Commits the view in all three formats and checks each with skopeo, podman and umoci against
 * `expected` (a manifest from a real tool's view of the same tree).
 */
async function commitAndCompare(t: ExecutionContext, view: View, label: string, baseLayers: number, expected: string, unchanged = false): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'layerfs-commit-tools-'));
  try {
    const name = uniqueRef(label);
    const ref = (f: Format) => `${name}:${f}`;
    const docker = join(work, 'docker.tar');
    const oci = join(work, 'oci.tar');
    const layout = join(work, 'layout');
    const results = {
      'docker-archive': await view.commit(docker, { format: 'docker-archive', tag: ref('docker-archive') }),
      'oci-archive': await view.commit(oci, { format: 'oci-archive', tag: ref('oci-archive') }),
      'oci-layout': await view.commit(layout, { format: 'oci-layout', tag: ref('oci-layout') }),
    };
    // One new layer, the same in all three (its tar does not depend on the format).
    t.is(results['oci-archive'].layer.diffId, results['docker-archive'].layer.diffId);
    t.is(results['oci-layout'].layer.diffId, results['docker-archive'].layer.diffId);

    if (unchanged) {
      // Nothing changed, so the new layer is a tar without a single entry (GNU tar lists it).
      const top = join(layout, 'blobs', 'sha256', results['oci-layout'].layer.digest.slice('sha256:'.length));
      t.is(await run('tar', ['-tvf', top]), '', 'the new layer of an unchanged view is empty');
    }

    // OCI-3: skopeo reads every form; for the OCI forms its manifest digest is the one written,
    // and the new (uncompressed) top layer's blob digest is its diff_id.
    const fromDockerArchive = await skopeoCheck(t, `docker-archive:${docker}`, baseLayers);
    t.is(fromDockerArchive.Layers.at(-1), results['docker-archive'].layer.diffId, 'docker-archive: top layer = diff_id');
    for (const [format, transport] of [
      ['oci-archive', `oci-archive:${oci}:${ref('oci-archive')}`],
      ['oci-layout', `oci:${layout}:${ref('oci-layout')}`],
    ] as const) {
      const info = await skopeoCheck(t, transport, baseLayers);
      t.is(info.Digest, results[format].manifestDigest, `${transport}: manifest digest`);
      t.is(info.Layers.at(-1), results[format].layer.diffId, `${transport}: top layer digest = diff_id`);
    }

    // Every format is flattened by a real tool: the oci-layout by umoci, and each archive by podman
    // (one image at a time, see podmanExclusive) or umoci. `npm run test:slow` (LAYERFS_COMMIT_ALL=1)
    // runs podman on both archives and umoci on the extracted oci-archive as well; npm test gives
    // podman one archive, alternating from test to test, and the oci-archive to umoci when podman
    // has the docker-archive.
    const all = process.env.LAYERFS_COMMIT_ALL === '1';
    const podmanOci = all || createHash('sha256').update(label).digest()[0]! % 2 === 1;
    const podmanDocker = all || !podmanOci;
    const podman = (async () => [podmanDocker ? await podmanFlatten(docker, ref('docker-archive')) : undefined, podmanOci ? await podmanFlatten(oci, ref('oci-archive')) : undefined])();
    // allSettled: nothing may still write into `work` when it is removed.
    const settled = await Promise.allSettled([
      podman,
      umociFlatten(layout, ref('oci-layout'), work),
      all || !podmanOci ? umociFlattenArchive(oci, ref('oci-archive'), work) : Promise.resolve(undefined),
    ] as const);
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    const [[fromDocker, fromOciArchive], fromLayout, fromExtracted] = settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
      Array<{ manifest: string; id: string } | undefined>,
      string,
      string | undefined,
    ];
    t.true(fromDocker !== undefined || fromOciArchive !== undefined, 'podman flattened an archive');
    t.true(fromOciArchive !== undefined || fromExtracted !== undefined, 'a real tool flattened the oci-archive');
    if (fromDocker) {
      t.is(fromDocker.manifest, expected, 'podman load docker-archive + podman image mount');
      // OCI-3: the image ID is the sha256 of the config bytes.
      t.is(`sha256:${fromDocker.id}`, results['docker-archive'].configDigest, 'podman image ID (docker-archive)');
    }
    if (fromOciArchive) {
      t.is(fromOciArchive.manifest, expected, 'podman load oci-archive + podman image mount');
      t.is(`sha256:${fromOciArchive.id}`, results['oci-archive'].configDigest, 'podman image ID (oci-archive)');
    }
    t.is(fromLayout, expected, 'umoci unpack of the oci-layout directory');
    if (fromExtracted !== undefined) t.is(fromExtracted, expected, 'umoci unpack of the extracted oci-archive');

    // And layerfs reads its own output back to the same tree.
    for (const [path, tag] of [
      [docker, ref('docker-archive')],
      [oci, ref('oci-archive')],
      [layout, ref('oci-layout')],
    ]) {
      const back = await openImage(path, { tag });
      try {
        t.is(back.layerCount, baseLayers + 1);
        t.is(back.manifest(), expected, `layerfs reopening ${path}`);
      } finally {
        back.close();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Changes made through view.fs, one realistic set per fixture image

type Fs = View['fs'];

/** 256 distinct byte values, repeated: binary data with every byte in it. */
const binary = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff));

/** Writes `data` at `position` of an existing file without truncating it (a partial overwrite). */
function overwriteAt(fs: Fs, path: string, position: number, data: string | Buffer): void {
  const fd = fs.openSync(path, 'r+');
  try {
    const b = Buffer.from(data);
    fs.writeSync(fd, b, 0, b.length, position);
  } finally {
    fs.closeSync(fd);
  }
}

interface Scenario {
  image: string;
  archive: string;
  copyUp: CopyUpStrategy;
  /** What the changes exercise, for the test title. */
  about: string;
  /** index=on (OVL-15) or redirect_dir=on (OVL-13). */
  opts?: { index?: boolean; redirectDir?: boolean };
  change(fs: Fs): void;
}

const LONG = 'segment-s0123456789-abcdefghijklmnopqrstuvwxyz';

const SCENARIOS: Scenario[] = [
  {
    image: 'layers',
    archive: 'docker-archive.tar',
    copyUp: 'full',
    about: 'copy-up, append, whiteout, recursive delete, opaque recreate, chmod/chown, hard links, rename with xattrs',
    change(fs) {
      fs.writeFileSync('/etc/motd', 'replaced through layerfs\n'); // copy-up, new content
      fs.appendFileSync('/usr/lib/libsfoo.so.1', 'appended tail\n'); // append to a 4 KiB file
      fs.appendFileSync('/srv/hl-a', 'copy-up breaks the lower hard link\n'); // hl-c keeps the old data
      fs.unlinkSync('/etc/passwd'); // whiteout
      fs.rmSync('/var/cache', { recursive: true }); // lower tree gone
      fs.rmSync('/opt/data', { recursive: true }); // ... and recreated: opaque
      fs.mkdirSync('/opt/data');
      fs.writeFileSync('/opt/data/fresh.txt', 'a new file in a recreated directory\n');
      fs.chmodSync('/usr/bin/stool', 0o4750); // metadata only
      fs.chownSync('/home/user/.profile', 2000, 3000);
      fs.chmodSync('/tmp', 0o1770); // a directory's mode
      fs.renameSync('/etc/sapp.conf', '/etc/sapp.conf.renamed'); // keeps user.origin xattr
      fs.mkdirSync('/srv/new/sub', { recursive: true });
      fs.writeFileSync('/srv/new/sub/data.bin', binary(70_000));
      fs.writeFileSync('/srv/new/empty', '');
      fs.symlinkSync('../../etc/motd', '/srv/new/motd-link');
      fs.linkSync('/srv/hl-b', '/srv/new/hl-b-second-name'); // link to a lower file
      fs.linkSync('/srv/new/sub/data.bin', '/srv/new/data-link'); // link to a new file
      fs.chmodSync('/srv/new/empty', 0o000); // mode 0000 survives
      fs.renameSync('/usr/bin/ssuid', '/var/empty-file'); // rename over a lower file
    },
  },
  {
    image: 'whiteouts',
    archive: 'oci-archive-gzip.tar',
    copyUp: 'metadata',
    about: 'metadata-only copy-up, file replacing a directory, directory replacing a file, moves',
    change(fs) {
      fs.chmodSync('/linkdir/real', 0o600); // metacopy: data stays below
      fs.chownSync('/linkdir/real', 1, 2);
      fs.chownSync('/sapp2/keep/k', 33, 33);
      fs.linkSync('/sapp2/keep/k', '/srv/k-second-name'); // a link to a metacopy
      fs.appendFileSync('/sapp2/keep/k', 'data copy-up after a metadata copy-up\n');
      fs.rmSync('/sym2dir', { recursive: true }); // a file replaces a directory
      fs.writeFileSync('/sym2dir', 'was a directory\n');
      fs.unlinkSync('/dir2file'); // a directory replaces a file
      fs.mkdirSync('/dir2file');
      fs.writeFileSync('/dir2file/inside', 'in a directory that was a file\n');
      fs.renameSync('/linkdir/real', '/srv/real-moved'); // rename of a lower file
      fs.symlinkSync('/srv/real-moved', '/linkdir/real'); // a symlink where it was
      fs.rmdirSync('/sapp'); // empty lower directory
      fs.mkdirSync('/srv/a/b/c', { recursive: true, mode: 0o750 });
    },
  },
  {
    image: 'links',
    archive: 'oci-archive-zstd.tar',
    copyUp: 'chunked',
    about: 'writes through symlinks, partial overwrite, hard-linked symlinks, recreated directories',
    change(fs) {
      fs.writeFileSync('/bin/rel', 'written through a relative symlink\n'); // lands on /bin/sother
      fs.appendFileSync('/data/h1', 'appended to one name of a link group\n');
      overwriteAt(fs, '/usr/lib/sx.so', 1000, 'CHUNK'); // chunked: only 5 bytes copied
      fs.writeFileSync('/lib/through-dir-symlink.so', 'via /lib -> usr/lib\n');
      fs.unlinkSync('/usr/share/loop1');
      fs.renameSync('/chain/c', '/chain/c-renamed');
      fs.symlinkSync('c-renamed', '/chain/c');
      fs.rmSync('/data/sub', { recursive: true });
      fs.mkdirSync('/data/sub');
      fs.writeFileSync('/data/sub/h3', 'same name, new file\n');
      fs.linkSync('/data/symh', '/data/symh-third-name'); // link() does not follow
      fs.lchownSync('/bin/abs', 5, 6); // owner of a symlink itself
      fs.chmodSync('/usr/lib/sx.so', 0o755);
      fs.truncateSync('/bin/sother', 10_000); // extend: a hole of zeros
      fs.truncateSync('/usr/share/escape-dangling', 7); // shrink
    },
  },
  {
    image: 'names',
    archive: 'oci-archive.tar',
    copyUp: 'chunked',
    about: 'non-ASCII, control-character and long names, long link targets, deep paths',
    change(fs) {
      fs.writeFileSync('/names/Straße.txt', 'überschrieben\n');
      fs.appendFileSync('/names/résumé.txt', 'plus\n'); // keeps user.comment
      fs.unlinkSync('/names/שלום.txt');
      fs.unlinkSync('/names/new\nxline');
      fs.renameSync('/names/中文/文件.txt', '/names/中文/新しい名前.txt');
      fs.chmodSync('/names/a\u0308-nfd.txt', 0o640); // NFD name, bytes as stored
      fs.writeFileSync('/names/tab\tand\nnewline-new', 'control characters in a new name\n');
      fs.writeFileSync('/names/.wh-lookalike-new', 'not a whiteout: .wh- is not .wh.\n');
      fs.rmSync('/deep/ds1-abcdefgh/ds2-abcdefgh/ds3-abcdefgh', { recursive: true });
      const longDir = `/long/${'ł'.repeat(120)}`; // 240-byte name
      fs.mkdirSync(longDir);
      fs.writeFileSync(`${longDir}/${'n'.repeat(250)}`, 'a file with a 250-byte name\n');
      fs.symlinkSync(`${longDir}/${'n'.repeat(250)}`, '/names/very-long-target');
      fs.linkSync(`/long/${LONG}-hardlink-to-long-name`, '/names/third-name-of-the-long-hardlink');
      fs.rmSync(`/long/${LONG}/${LONG}`, { recursive: true });
      fs.mkdirSync(`/long/${LONG}/${LONG}/${LONG}`, { recursive: true });
      fs.writeFileSync(`/long/${LONG}/${LONG}/${LONG}/recreated-deep.txt`, 'deep and long\n');
    },
  },
  {
    image: 'layers',
    archive: 'oci-archive-zstd.tar',
    copyUp: 'chunked',
    opts: { index: true },
    about: 'OVL-15 index=on: a copied-up hard link keeps all its names',
    // upperEntries() (src/union/upper.ts) walks the upper tree only; with index=on the other lower
    // names of a copied-up inode (here /srv/hl-c) show the upper copy in the view (walk.ts childOf,
    // s.indexed) but are not in the upper tree, so the new layer leaves them out: the committed
    // image has /srv/hl-c with the old data and hl-a/hl-c no longer linked.
    change(fs) {
      fs.appendFileSync('/srv/hl-a', 'seen through /srv/hl-c too\n'); // hl-c shows it (index=on)
      fs.linkSync('/srv/hl-b', '/srv/hl-b2'); // hl-a/hl-c untouched by name
      fs.writeFileSync('/etc/motd', 'motd\n');
    },
  },
  {
    image: 'links',
    archive: 'oci-archive-gzip.tar',
    copyUp: 'full',
    opts: { redirectDir: true },
    about: 'OVL-13 redirect_dir=on: renamed lower directories with hard links and symlinks',
    change(fs) {
      fs.renameSync('/data', '/data-moved'); // h1/h4, symh pairs inside
      fs.mkdirSync('/data');
      fs.writeFileSync('/data/new', 'a new directory where the old one was\n');
      fs.renameSync('/usr/share', '/usr/share-moved');
      fs.appendFileSync('/usr/share-moved/escape-dangling', 'changed after the move\n');
      fs.unlinkSync('/usr/share-moved/loop2');
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Tests

for (const s of SCENARIOS) {
  const title = `DKR-12 commit ${s.image}/${s.archive} (copyUp ${s.copyUp}): ${s.about}: podman, skopeo and umoci flatten it to view.manifest()`;
  test(title, async (t) => {
    needTools();
    const view = await openImage(join(FIXTURES, s.image, s.archive), { copyUp: s.copyUp, ...s.opts });
    try {
      s.change(view.fs);
      const expected = view.manifest();
      t.not(expected, truth(s.image, 'rootfs.manifest'), 'the changes show in the view');
      await commitAndCompare(t, view, `${s.image}-${s.copyUp}`, steps(s.image), expected);
    } finally {
      view.close();
    }
  });
}

const SOURCE_FORMATS = ['docker-archive.tar', 'oci-archive.tar', 'oci-archive-gzip.tar', 'oci-archive-zstd.tar'];

// npm test commits unmodified only the images no scenario above commits (a scenario goes through the
// same commit, and the scenarios read every source format); npm run test:slow commits every image.
const CHANGED = new Set(SCENARIOS.map((s) => s.image));
IMAGES.forEach((image, i) => {
  if (process.env.LAYERFS_COMMIT_ALL !== '1' && CHANGED.has(image)) return;
  const archive = SOURCE_FORMATS[i % SOURCE_FORMATS.length];
  test(`DKR-12 commit of an unmodified ${image}/${archive}: podman, skopeo and umoci flatten it to truth/rootfs.manifest`, async (t) => {
    needTools();
    const view = await openImage(join(FIXTURES, image, archive));
    try {
      await commitAndCompare(t, view, `${image}-unmodified`, steps(image), truth(image, 'rootfs.manifest'), true);
    } finally {
      view.close();
    }
  });
});

test('OCI-13 DKR-12 commit of a GNU tar layer changed through view.fs (binary xattrs, non-UTF-8 long names, large ids, mode 0000, fifo in the new layer): podman and umoci flatten it to view.manifest()', async (t) => {
  needTools();
  const work = mkdtempSync(join(tmpdir(), 'layerfs-commit-gnutar-'));
  try {
    const { layer, src } = await gnuTarLayer(work);
    const view = await openLayers([layer], { copyUp: 'metadata' });
    try {
      t.is(view.manifest(), await manifestOf(src), 'precondition: layerfs reads the GNU tar layer as the directory was');
      const fs = view.fs;
      const latin = fs.readdirSync('/data').find((n) => n.startsWith('caf'))!; // 'caf\udce9': byte 0xe9 kept
      const long = fs.readdirSync(`/data/${latin}`)[0];
      fs.appendFileSync(`/data/${latin}/${long}`, 'appended\n'); // copy-up of non-UTF-8 names
      fs.renameSync(`/data/${latin}/${long}`, `/data/${latin}/${long}-\udcfe-renamed`);
      fs.chmodSync('/data/bin-xattr', 0o640); // binary xattr in the new layer
      fs.chmodSync('/data/fifo', 0o600); // a fifo in the new layer
      fs.chownSync('/data/big-ids', 2_000_001, 3_000_001);
      fs.writeFileSync('/data/zero-mode-new', 'x');
      fs.chmodSync('/data/zero-mode-new', 0);
      fs.symlinkSync(`/elsewhere/\udcfd-${'w'.repeat(120)}`, '/data/new-long-binary-link');
      const expected = view.manifest();
      t.not(expected, await manifestOf(src));
      await commitAndCompare(t, view, 'gnutar-layer', 1, expected);
    } finally {
      view.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('DKR-12 commit into an existing OCI layout adds the image beside those already there; the same tag is replaced', async (t) => {
  needTools();
  const work = mkdtempSync(join(tmpdir(), 'layerfs-commit-layout-'));
  try {
    const layout = join(work, 'layout');
    // Something skopeo put there first: the fixture's own image.
    await run('skopeo', ['copy', `oci-archive:${join(FIXTURES, 'volumes', 'oci-archive.tar')}:localhost/volumes:latest`, `oci:${layout}:from-skopeo`]);
    const view = await openImage(join(FIXTURES, 'layers', 'oci-archive.tar'));
    try {
      view.fs.writeFileSync('/etc/motd', 'first\n');
      await view.commit(layout, { format: 'oci-layout', tag: 'localhost/app:v1' });
      const firstV1 = view.manifest();
      view.fs.writeFileSync('/etc/motd', 'second\n');
      await view.commit(layout, { format: 'oci-layout', tag: 'localhost/app:v2' });
      const v2 = view.manifest();
      view.fs.writeFileSync('/etc/motd', 'third, replacing v1\n');
      await view.commit(layout, { format: 'oci-layout', tag: 'localhost/app:v1' });
      const v1 = view.manifest();
      t.not(v1, firstV1);

      const [fromSkopeo, gotV2, gotV1] = await Promise.all([umociFlatten(layout, 'from-skopeo', work), umociFlatten(layout, 'localhost/app:v2', work), umociFlatten(layout, 'localhost/app:v1', work)]);
      t.is(fromSkopeo, truth('volumes', 'rootfs.manifest'), 'the image skopeo wrote is still there');
      t.is(gotV2, v2);
      t.is(gotV1, v1, 'v1 is the last commit tagged v1');
      const tags = (await run('umoci', ['ls', '--layout', layout])).split('\n').filter(Boolean).sort();
      t.deepEqual(tags, ['from-skopeo', 'localhost/app:v1', 'localhost/app:v2']);
      for (const tag of ['localhost/app:v1', 'localhost/app:v2']) await skopeoCheck(t, `oci:${layout}:${tag}`, steps('layers'));
    } finally {
      view.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('DKR-12 commit is the view as it was when commit() was called (docker commit pauses the container): later writes do not reach the image', async (t) => {
  needTools();
  const work = mkdtempSync(join(tmpdir(), 'layerfs-commit-snapshot-'));
  const view = await openImage(join(FIXTURES, 'layers', 'oci-archive.tar'), { copyUp: 'chunked' });
  try {
    const fs = view.fs;
    fs.writeFileSync('/etc/motd', 'at commit time\n');
    fs.writeFileSync('/srv/big', binary(3 << 20));
    overwriteAt(fs, '/usr/lib/libsfoo.so.1', 100, 'chunk');
    const expected = view.manifest();
    const name = uniqueRef('snapshot');
    const docker = join(work, 'docker.tar');
    const layout = join(work, 'layout');
    const pending = [view.commit(docker, { format: 'docker-archive', tag: `${name}:docker` }), view.commit(layout, { format: 'oci-layout', tag: `${name}:layout` })];
    // While the commits are under way, the view goes on changing.
    fs.writeFileSync('/etc/motd', 'after commit() was called\n');
    fs.truncateSync('/srv/big', 10);
    overwriteAt(fs, '/usr/lib/libsfoo.so.1', 100, 'CHUNK');
    fs.writeFileSync('/srv/created-later', 'x');
    fs.rmSync('/opt', { recursive: true });
    t.not(view.manifest(), expected);
    await Promise.all(pending);
    t.is((await podmanFlatten(docker, `${name}:docker`)).manifest, expected, 'podman');
    t.is(await umociFlatten(layout, `${name}:layout`, work), expected, 'umoci');
  } finally {
    view.close();
    rmSync(work, { recursive: true, force: true });
  }
});

test('OCI-8 commit refuses a real file or directory named .wh.*, in every format, and writes nothing', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'layerfs-commit-oci8-'));
  try {
    for (const [path, make] of [
      ['/etc/.wh.x', (fs: Fs) => fs.writeFileSync('/etc/.wh.x', 'looks like a whiteout\n')],
      ['/srv/.wh.dir', (fs: Fs) => fs.mkdirSync('/srv/.wh.dir')],
      ['/.wh..wh..opq', (fs: Fs) => fs.writeFileSync('/.wh..wh..opq', '')],
    ] as const) {
      const view = await openImage(join(FIXTURES, 'layers', 'oci-archive.tar'));
      try {
        make(view.fs);
        t.true(view.fs.existsSync(path), `${path} can be created through the view`);
        for (const format of FORMATS) {
          const dest = join(work, `${format}-${path.replace(/\W/g, '_')}`);
          const err = await t.throwsAsync(view.commit(dest, { format, tag: 'localhost/oci8:latest' }), { instanceOf: ArchiveError });
          t.is(err?.code, 'BAD_WHITEOUT', `${format} ${path}`);
          t.true(err?.message.includes(`cannot commit ${path}:`), err?.message);
          t.regex(err?.message ?? '', /names starting with \.wh\. are reserved for whiteouts \(OCI-8\)/);
          t.false(existsSync(dest), `${format}: nothing written at ${dest}`);
        }
        // Removing the offending name makes the view committable again.
        view.fs.rmSync(path, { recursive: true });
        const dest = join(work, `ok-${path.replace(/\W/g, '_')}.tar`);
        await t.notThrowsAsync(view.commit(dest, { format: 'oci-archive' }));
      } finally {
        view.close();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
