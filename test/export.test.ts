/**
 * DKR-14: `view.export(tar)` writes the flattened filesystem as one tar (`docker export`). The
 * expected tree never comes from layerfs: GNU tar extracts the export as root (owners, modes,
 * xattrs kept) and the fixtures' `manifest.py` describes the result, which must equal
 * truth/rootfs.manifest for an untouched view (what podman and umoci flatten the image to), and for
 * a view changed through `view.fs` what the kernel shows after the same changes made through Node's
 * own fs on a real overlay mount of the same layers (test/helpers/overlay.ts), or on a copy of the
 * directory GNU tar packed.
 *
 * Needs root, GNU tar and python3; a missing tool fails the test with a message saying so.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImage, openLayers, type CopyUpStrategy, type View } from '../src/index.js';
import { FIXTURES, IMAGES, truth } from './helpers/fixtures.js';
import { gnuTarLayer, manifestOf, run } from './helpers/tools.js';
import { hostFs, mountImage, overlayProblem } from './helpers/overlay.js';
import { requireOrSkip } from './helpers/require.js';

let toolProblem: string | undefined | null = null;

/** Fails (never skips) when GNU tar, python3 or root is missing: CI has them. */
function needTools(): void {
  if (toolProblem === null) {
    const missing: string[] = [];
    const tar = spawnSync('tar', ['--version'], { encoding: 'utf8' });
    if (tar.error || tar.status !== 0 || !tar.stdout.includes('GNU tar')) missing.push(`GNU tar (${tar.error?.message ?? tar.stdout.split('\n')[0]})`);
    const py = spawnSync('python3', ['--version'], { encoding: 'utf8' });
    if (py.error || py.status !== 0) missing.push(`python3 (${py.error?.message ?? py.stderr.trim()})`);
    if (process.getuid?.() !== 0) missing.push('root privileges (tar -p --numeric-owner restores owners only as root)');
    toolProblem = missing.length ? `these tests need ${missing.join(', ')}; .ci/run installs them with apt-get` : undefined;
  }
  if (toolProblem) throw new Error(toolProblem);
}

/** Extracts a tar with GNU tar as root, keeping owners, modes and xattrs; returns its manifest. */
async function extractedManifest(tarPath: string, work: string): Promise<string> {
  const dir = mkdtempSync(join(work, 'rootfs-'));
  await run('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', tarPath, '-C', dir]);
  return manifestOf(dir);
}

/** Exports the view to a temporary tar and returns what GNU tar extracts from it. */
async function exportAndExtract(view: View): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'layerfs-export-test-'));
  try {
    const tarPath = join(work, 'export.tar');
    const written = await view.export(tarPath);
    if (written.size !== statSync(tarPath).size) throw new Error(`export reported ${written.size} bytes, wrote ${statSync(tarPath).size}`);
    return await extractedManifest(tarPath, work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Untouched views: the export is the image's flattened rootfs

const UNTOUCHED: Array<[image: string, archive: string]> = [
  ...IMAGES.map((image): [string, string] => [image, 'oci-archive.tar']),
  ['layers', 'oci-archive-gzip.tar'],
  ['names', 'oci-archive-zstd.tar'],
  ['links', 'docker-archive.tar'],
];

for (const [image, archive] of UNTOUCHED) {
  test(`DKR-14 export ${image}/${archive} (untouched): GNU tar extracts it to truth/rootfs.manifest`, async (t) => {
    needTools();
    const view = await openImage(join(FIXTURES, image, archive));
    try {
      t.is(await exportAndExtract(view), truth(image, 'rootfs.manifest'));
    } finally {
      view.close();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Changed views: the export is what the view shows

type Fs = View['fs'];

const LONG = 'segment-s0123456789-abcdefghijklmnopqrstuvwxyz';

const CHANGED: Array<{
  image: string;
  archive: string;
  copyUp: CopyUpStrategy;
  opts?: { index?: boolean; redirectDir?: boolean };
  change(fs: Fs): void;
}> = [
  {
    image: 'layers',
    archive: 'oci-archive.tar',
    copyUp: 'metadata',
    change(fs) {
      fs.writeFileSync('/etc/motd', 'replaced\n');
      fs.appendFileSync('/srv/hl-a', 'copy-up breaks the lower hard link\n');
      fs.unlinkSync('/etc/passwd');
      fs.rmSync('/opt/data', { recursive: true });
      fs.mkdirSync('/opt/data');
      fs.writeFileSync('/opt/data/fresh', 'fresh\n');
      fs.chmodSync('/usr/bin/stool', 0o2711);
      fs.chownSync('/home/user/.profile', 2_000_000, 3_000_000); // ids past the 6 octal digits a header field gets
      fs.renameSync('/etc/sapp.conf', '/etc/sapp.conf.renamed'); // keeps its xattr
      fs.mkdirSync('/srv/new');
      fs.writeFileSync('/srv/new/zero-mode', 'x');
      fs.chmodSync('/srv/new/zero-mode', 0o000); // mode 0000 survives
      fs.linkSync('/srv/hl-b', '/srv/new/hl-b-second');
      fs.symlinkSync('/etc/motd', '/srv/new/abs-link');
      fs.writeFileSync('/srv/new/.wh.not-special-in-an-export', 'a plain file in a docker export\n');
    },
  },
  {
    image: 'names',
    archive: 'oci-archive-gzip.tar',
    copyUp: 'full',
    change(fs) {
      fs.writeFileSync('/names/Straße.txt', 'überschrieben\n');
      fs.appendFileSync('/names/résumé.txt', 'plus\n');
      fs.unlinkSync('/names/שלום.txt');
      fs.renameSync('/names/中文/文件.txt', '/names/中文/新しい名前.txt');
      fs.writeFileSync('/names/tab\tand\nnewline-new', 'control characters\n');
      const longDir = `/long/${'ł'.repeat(120)}`;
      fs.mkdirSync(longDir);
      fs.writeFileSync(`${longDir}/${'n'.repeat(250)}`, 'a 250-byte name\n');
      fs.symlinkSync(`${longDir}/${'n'.repeat(250)}`, '/names/very-long-target');
      fs.linkSync(`/long/${LONG}-hardlink-to-long-name`, '/names/third-name');
      fs.rmSync('/deep/ds1-abcdefgh/ds2-abcdefgh/ds3-abcdefgh', { recursive: true });
    },
  },
  {
    image: 'whiteouts',
    archive: 'oci-archive-zstd.tar',
    copyUp: 'chunked',
    change(fs) {
      fs.rmSync('/sym2dir', { recursive: true });
      fs.writeFileSync('/sym2dir', 'was a directory\n');
      fs.unlinkSync('/dir2file');
      fs.mkdirSync('/dir2file', { mode: 0o700 });
      fs.writeFileSync('/dir2file/inside', 'inside\n');
      const fd = fs.openSync('/sapp2/keep/k', 'r+');
      fs.writeSync(fd, Buffer.from('PATCH'), 0, 5, 10);
      fs.closeSync(fd);
    },
  },
  {
    image: 'layers',
    archive: 'oci-archive-zstd.tar',
    copyUp: 'chunked',
    opts: { index: true },
    change(fs) {
      fs.appendFileSync('/srv/hl-a', 'seen through /srv/hl-c too (index=on)\n');
    },
  },
  {
    image: 'links',
    archive: 'docker-archive.tar',
    copyUp: 'metadata',
    opts: { redirectDir: true },
    change(fs) {
      fs.renameSync('/data', '/data-moved');
      fs.mkdirSync('/data');
      fs.chmodSync('/data-moved/h4', 0o600);
    },
  },
  {
    image: 'links',
    archive: 'oci-archive.tar',
    copyUp: 'full',
    change(fs) {
      fs.writeFileSync('/bin/rel', 'through a symlink\n');
      fs.appendFileSync('/data/h1', 'one name of a link group\n');
      fs.unlinkSync('/usr/share/loop1');
      fs.linkSync('/data/symh', '/data/symh-third');
      fs.lchownSync('/bin/abs', 7, 8);
    },
  },
];

for (const c of CHANGED) {
  const opts = Object.keys(c.opts ?? {})
    .map((k) => `, ${k}`)
    .join('');
  test(`DKR-14 export ${c.image}/${c.archive} changed through view.fs (copyUp ${c.copyUp}${opts}): GNU tar extracts it to the kernel overlay's tree after the same changes`, async (t) => {
    needTools();
    if (!requireOrSkip(t, overlayProblem())) return;
    const work = mkdtempSync(join(tmpdir(), 'layerfs-export-kernel-'));
    const kernel = await mountImage(join(FIXTURES, c.image, 'oci-archive.tar'), work, c.opts);
    const view = await openImage(join(FIXTURES, c.image, c.archive), { copyUp: c.copyUp, ...c.opts });
    try {
      t.is(await manifestOf(kernel.mnt), truth(c.image, 'rootfs.manifest'), 'precondition: the kernel mount shows the image');
      c.change(hostFs(kernel.mnt) as unknown as Fs);
      const expected = await manifestOf(kernel.mnt);
      t.not(expected, truth(c.image, 'rootfs.manifest'), 'the changes show on the kernel');
      c.change(view.fs);
      t.is(await exportAndExtract(view), expected);
    } finally {
      view.close();
      kernel.release();
      rmSync(work, { recursive: true, force: true });
    }
  });
}

test('DKR-14 export to a stream writes the same bytes as export to a path', async (t) => {
  const view = await openImage(join(FIXTURES, 'layers', 'oci-archive.tar'));
  const work = mkdtempSync(join(tmpdir(), 'layerfs-export-stream-'));
  try {
    view.fs.writeFileSync('/etc/motd', 'streamed\n');
    const a = join(work, 'a.tar');
    const b = join(work, 'b.tar');
    const wa = await view.export(a);
    const wb = await view.export(createWriteStream(b));
    t.deepEqual(wb, wa);
    t.true(readFileSync(b).equals(readFileSync(a)));
  } finally {
    view.close();
    rmSync(work, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// A layer GNU tar made from a real directory: what the fixtures lack

/** What the test below does through view.fs, done on a host directory with byte paths. */
const SAME_CHANGES = String.raw`
import os, sys
root = os.fsencode(sys.argv[1])
p = lambda *parts: os.path.join(root, b'data', *parts)
latin = next(n for n in os.listdir(p()) if n.startswith(b'caf'))
long = os.listdir(p(latin))[0]
with open(p(latin, long), 'ab') as f: f.write(b'appended\n')
os.chmod(p(b'bin-xattr'), 0o600)
os.chmod(p(b'fifo'), 0o600)
with open(p(b'new-\xff-' + b'y' * 110), 'wb') as f: f.write(b'a new long non-UTF-8 name\n')
with open(p(b'big-ids-new'), 'wb') as f: f.write(b'x')
os.chown(p(b'big-ids-new'), 4000000, 5000000)
os.utime(p(b'big-ids-new'), (-302443200, -302443200))
`;

test('OCI-13 DKR-14 export of a GNU tar layer keeps binary xattrs, non-UTF-8 long names and targets, large ids, mode 0000, fifos, mtimes past 2038', async (t) => {
  needTools();
  const work = mkdtempSync(join(tmpdir(), 'layerfs-export-gnutar-'));
  try {
    const { layer, src } = await gnuTarLayer(work);
    const truthOfSrc = await manifestOf(src);
    const view = await openLayers([layer], { copyUp: 'metadata' });
    try {
      t.is(view.manifest(), truthOfSrc, 'precondition: layerfs reads the GNU tar layer as the directory was');
      const untouched = join(work, 'untouched.tar');
      await view.export(untouched);
      const out = mkdtempSync(join(work, 'out-'));
      await run('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', untouched, '-C', out]);
      t.is(await manifestOf(out), truthOfSrc);
      t.is(statSync(join(out, 'data/bin-xattr')).mtimeMs, statSync(join(src, 'data/bin-xattr')).mtimeMs, 'an mtime past 2038');

      const fs = view.fs;
      const latin = fs.readdirSync('/data').find((n) => n.startsWith('caf'))!; // 'caf\udce9': byte 0xe9 kept
      const long = fs.readdirSync(`/data/${latin}`)[0];
      fs.appendFileSync(`/data/${latin}/${long}`, 'appended\n'); // copy-up of non-UTF-8 names
      fs.chmodSync('/data/bin-xattr', 0o600); // binary xattr in the upper layer
      fs.chmodSync('/data/fifo', 0o600);
      fs.writeFileSync(`/data/new-\udcff-${'y'.repeat(110)}`, 'a new long non-UTF-8 name\n');
      fs.writeFileSync('/data/big-ids-new', 'x');
      fs.chownSync('/data/big-ids-new', 4_000_000, 5_000_000);
      const before1970 = new Date('1960-06-01T12:00:00Z'); // (a negative number would mean now)
      fs.utimesSync('/data/big-ids-new', before1970, before1970);
      // The same changes on a copy of the directory GNU tar packed, by Python (the kernel).
      const copy = join(work, 'src-changed');
      await run('cp', ['-a', src, copy]);
      await run('python3', ['-c', SAME_CHANGES, copy]);
      const expected = await manifestOf(copy);
      t.not(expected, truthOfSrc);
      t.is(await exportAndExtract(view), expected);
      const changed = join(work, 'changed.tar');
      await view.export(changed);
      const out2 = mkdtempSync(join(work, 'out-'));
      await run('tar', ['--numeric-owner', '-xpf', changed, '-C', out2]);
      t.is(fs.statSync('/data/big-ids-new').mtimeMs, before1970.getTime(), 'precondition: the view took the time');
      t.is(statSync(join(out2, 'data/big-ids-new')).mtimeMs, before1970.getTime(), 'an mtime before 1970');
    } finally {
      view.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
