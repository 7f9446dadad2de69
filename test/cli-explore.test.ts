/**
 * The explore commands (inspect, tree, ls, cat, find, diff-images, export, export-layer), run as
 * the real `layerfs` command and checked against the fixtures' ground truth: truth/config.json,
 * step-N.changes, step-N.manifest, rootfs.manifest, layers.entries, and changes.py / manifest.py /
 * GNU tar / sha256 as independent tools.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/index.js';
import { FIXTURE_TOOLS, FIXTURES, IMAGES, steps, truth } from './helpers/fixtures.js';
import { layerfsHere } from './helpers/cli.js';
import { manifestOf, run } from './helpers/tools.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  raw: Buffer;
}

/** `layerfs ARGS...`, run in-process (helpers/cli.ts layerfsHere: the bin's command line and code). */
async function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const r = await layerfsHere(args, { env });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, raw: r.out };
}

async function json<T = any>(args: string[]): Promise<T> {
  const r = await cli(['--json', ...args]);
  if (r.code !== 0) throw new Error(`layerfs ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const archive = (image: string, format = 'docker-archive.tar'): string => join(FIXTURES, image, format);

interface MRow {
  path: string;
  type: string;
  mode: string;
  uid: string;
  gid: string;
  size: string;
  sha256: string;
  linkgroup: string;
}
function manifestRows(text: string): MRow[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [path, type, mode, uid, gid, size, sha256, , linkgroup] = l.split('\t');
      return { path, type, mode, uid, gid, size, sha256, linkgroup };
    });
}
const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');
const config = (image: string) => JSON.parse(truth(image, 'config.json'));

/** layers.entries: per layer (1-based) the raw tar entries [name, typeflag, size, whiteout/opaque]. */
function rawEntries(image: string): Array<Array<{ name: string; typeflag: string; size: number; kind: string }>> {
  const out: Array<Array<{ name: string; typeflag: string; size: number; kind: string }>> = [];
  for (const l of truth(image, 'layers.entries').split('\n')) {
    if (l.startsWith('## layer')) out.push([]);
    else if (l && !l.startsWith('#')) {
      const f = l.split('\t');
      out[out.length - 1].push({ name: f[0], typeflag: f[1], size: Number(f[5]), kind: f[7] });
    }
  }
  return out;
}

// ---------- inspect ----------

for (const image of IMAGES) {
  test(`inspect --json ${image}: layers, diff_ids, created_by and A/M/D counts from truth`, async (t) => {
    const r = await json(['inspect', archive(image)]);
    const cfg = config(image);
    t.is(r.layers.length, steps(image));
    t.deepEqual(
      r.layers.map((l: any) => l.diffId),
      cfg.rootfs.diff_ids,
    );
    // docker-archive layers are stored uncompressed: the blob digest is the diff_id.
    t.deepEqual(
      r.layers.map((l: any) => l.digest),
      cfg.rootfs.diff_ids,
    );
    const createdBy = (cfg.history ?? []).filter((h: any) => !h.empty_layer).map((h: any) => h.created_by ?? null);
    if (createdBy.length === r.layers.length)
      t.deepEqual(
        r.layers.map((l: any) => l.createdBy),
        createdBy,
      );
    for (let n = 1; n <= r.layers.length; n++) {
      const ch = lines(truth(image, `step-${n}.changes`));
      const count = (k: string) => ch.filter((l) => l.startsWith(`${k} `)).length;
      t.deepEqual([r.layers[n - 1].added, r.layers[n - 1].modified, r.layers[n - 1].deleted], [count('A'), count('M'), count('D')], `layer ${n}`);
    }
  });
}

for (const image of ['layers', 'whiteouts']) {
  test(`inspect --json ${image}: total and wasted bytes from layers.entries and rootfs.manifest`, async (t) => {
    const r = await json(['inspect', archive(image, 'oci-archive-gzip.tar')]);
    const raw = rawEntries(image);
    // Every regular file stored (typeflag 0, not a whiteout marker) is a copy.
    const total = raw
      .flat()
      .filter((e) => e.typeflag === '0' && e.kind === '-')
      .reduce((s, e) => s + e.size, 0);
    const user = raw
      .slice(1)
      .flat()
      .filter((e) => e.typeflag === '0' && e.kind === '-')
      .reduce((s, e) => s + e.size, 0);
    // Visible: the final files, once per hard-link group. Each is one stored copy; the rest is wasted.
    const visible = manifestRows(truth(image, 'rootfs.manifest'))
      .filter((m) => m.type === 'f' && (m.linkgroup === '-' || m.linkgroup === m.path))
      .reduce((s, m) => s + Number(m.size), 0);
    t.is(r.waste.totalBytes, total);
    t.is(r.waste.userBytes, user);
    t.is(r.waste.wastedBytes, total - visible);
    t.is(r.waste.efficiency, 1 - (total - visible) / total);
    t.is(
      r.waste.paths.reduce((s: number, p: any) => s + p.bytes, 0),
      total - visible,
    );
    // Every wasted copy is a stored copy of that path in that layer.
    for (const p of r.waste.paths) {
      for (const c of p.copies) {
        t.true(
          raw[c.layer - 1].some((e) => `/${e.name}` === p.path && e.typeflag === '0' && e.size === c.bytes),
          `${p.path} layer ${c.layer}`,
        );
        t.true(c.by > c.layer);
      }
    }
  });
}

test('inspect: /opt/data/blob.bin of the layers image is wasted twice (65536 B in layers 1 and 2)', async (t) => {
  const r = await json(['inspect', archive('layers', 'oci-archive-zstd.tar')]);
  const blob = r.waste.paths.find((p: any) => p.path === '/opt/data/blob.bin');
  const sizes = rawEntries('layers').map((l) => l.find((e) => e.name === 'opt/data/blob.bin')?.size);
  t.deepEqual(
    blob.copies.map((c: any) => [c.layer, c.bytes]),
    [
      [1, sizes[0]],
      [2, sizes[1]],
    ],
  );
  // Layer 2 only chowned it (step-2.changes "owner"): its new copy has the same bytes.
  t.true(lines(truth('layers', 'step-2.changes')).includes('M /opt/data/blob.bin owner'));
  t.is(blob.copies[0].reason, 'duplicate');
  t.is(blob.copies[1].reason, 'overwritten');
});

test('inspect text: one line per layer with its counts, wasted space and efficiency; no colour off a TTY', async (t) => {
  const r = await cli(['inspect', archive('whiteouts')]);
  t.is(r.code, 0, r.stderr);
  t.false(r.stdout.includes('\x1b['));
  for (let n = 1; n <= steps('whiteouts'); n++) {
    const ch = lines(truth('whiteouts', `step-${n}.changes`));
    const c = ['A', 'M', 'D'].map((k) => ch.filter((l) => l.startsWith(`${k} `)).length);
    t.regex(r.stdout, new RegExp(`^\\s+${n}\\s+[0-9a-f]{12}\\s.*\\s${c[0]}\\s+${c[1]}\\s+${c[2]}\\s+oracle whiteouts layer ${n}$`, 'm'));
  }
  t.regex(r.stdout, /^Wasted space: /m);
  t.regex(r.stdout, /^Efficiency: \d+\.\d\d%/m);
});

test('inspect --ci: exit 1 naming the crossed threshold, 0 when all hold', async (t) => {
  const img = archive('layers');
  const { waste } = await json(['inspect', img]);
  const pass = await cli([
    'inspect',
    img,
    '--ci',
    '--lowest-efficiency',
    '0',
    '--highest-wasted-bytes',
    String(waste.wastedBytes),
    '--highest-user-wasted-percent',
    String(Math.min(1, waste.userWastedRatio)),
  ]);
  t.is(pass.code, waste.userWastedRatio > 1 ? 1 : 0, pass.stdout);
  const ok = await cli(['inspect', img, '--ci', '--lowest-efficiency', '0', '--highest-wasted-bytes', String(waste.wastedBytes)]);
  t.is(ok.code, 0, ok.stdout + ok.stderr);
  t.regex(ok.stdout, /^CI: PASS$/m);
  const eff = await cli(['inspect', img, '--ci', '--lowest-efficiency', '100%']);
  t.is(eff.code, 1);
  t.regex(eff.stdout, /FAIL lowest-efficiency/);
  const bytes = await cli(['inspect', img, '--ci', '--highest-wasted-bytes', String(waste.wastedBytes - 1)]);
  t.is(bytes.code, 1);
  t.regex(bytes.stdout, /FAIL highest-wasted-bytes: \d+ B/);
  const user = await cli(['--json', 'inspect', img, '--ci', '--highest-user-wasted-percent', '0']);
  t.is(user.code, 1);
  t.deepEqual(
    JSON.parse(user.stdout).ci.checks.map((c: any) => [c.rule, c.pass]),
    [['highest-user-wasted-percent', false]],
  );
  t.is((await cli(['inspect', img, '--lowest-efficiency', '0.5'])).code, 2, 'a threshold without --ci');
  t.is((await cli(['inspect', img, '--ci', '--lowest-efficiency', '7'])).code, 2);
});

// ---------- tree / ls ----------

for (const image of IMAGES) {
  test(`tree --changes N --json ${image}: every layer's A/D/M lines equal truth/step-N.changes`, async (t) => {
    for (let n = 1; n <= steps(image); n++) {
      const items = await json(['tree', archive(image, 'oci-archive.tar'), '--changes', String(n)]);
      const got = items.filter((i: any) => i.change).map((i: any) => (i.change === 'M' ? `M ${i.path} ${i.fields.join(',')}` : `${i.change} ${i.path}`));
      t.deepEqual(got, lines(truth(image, `step-${n}.changes`)), `layer ${n}`);
    }
  });
}

for (const image of ['layers', 'whiteouts', 'names']) {
  test(`tree --layer N --json ${image}: paths, types, modes, owners, sizes equal truth/step-N.manifest`, async (t) => {
    for (let n = 1; n <= steps(image); n++) {
      const items = await json(['tree', archive(image, 'oci-archive-gzip.tar'), '--layer', String(n)]);
      const got = items.map((i: any) => [i.path, i.type, i.mode, String(i.uid), String(i.gid), i.type === 'f' ? String(i.size) : '-']);
      const want = manifestRows(truth(image, `step-${n}.manifest`)).map((m) => [m.path, m.type, m.mode, m.uid, m.gid, m.size]);
      t.deepEqual(got, want, `step ${n}`);
    }
  });
}

test('tree PATH: only what is below PATH, drawn as a tree with sizes', async (t) => {
  const r = await cli(['tree', archive('layers'), '/etc', '--layer', '1']);
  t.is(r.code, 0, r.stderr);
  const want = manifestRows(truth('layers', 'step-1.manifest')).filter((m) => m.path.startsWith('/etc/'));
  const shown = lines(r.stdout);
  t.is(shown[0], '/etc');
  t.is(shown.length, want.length + 1);
  for (const m of want)
    t.true(
      shown.some((l) => l.includes(`── ${m.path.slice(5)}  ${m.size} B`)),
      m.path,
    );
});

test('ls PATH --json: the direct children of a directory, after N layers and as changed by layer N', async (t) => {
  for (let n = 1; n <= steps('layers'); n++) {
    const items = await json(['ls', archive('layers'), '/etc', '--layer', String(n)]);
    const want = manifestRows(truth('layers', `step-${n}.manifest`)).filter((m) => /^\/etc\/[^/]+$/.test(m.path));
    t.deepEqual(
      items.map((i: any) => [i.path, i.type === 'f' ? String(i.size) : '-']),
      want.map((m) => [m.path, m.size]),
    );
    const changed = await json(['ls', archive('layers'), '/etc', '--changes', String(n)]);
    const wantCh = lines(truth('layers', `step-${n}.changes`)).filter((l) => /^. \/etc\/[^/ ]+( |$)/.test(l));
    t.deepEqual(
      changed.map((i: any) => (i.change === 'M' ? `M ${i.path} ${i.fields.join(',')}` : `${i.change} ${i.path}`)),
      wantCh,
    );
  }
  const text = await cli(['ls', archive('layers'), '/usr/bin']);
  t.regex(text.stdout, /^-rwsr-xr-x {2}0:0 +20 B {2}ssuid$/m);
});

test('--origin: each file comes from the topmost layer that stored it, and hides the lower copies', async (t) => {
  const raw = rawEntries('layers');
  const items = await json(['tree', archive('layers'), '--origin']);
  for (const m of manifestRows(truth('layers', 'rootfs.manifest')).filter((x) => x.type !== 'd')) {
    const layers = raw.map((l, i) => (l.some((e) => `/${e.name}` === m.path && e.kind === '-') ? i + 1 : 0)).filter(Boolean);
    const it = items.find((i: any) => i.path === m.path);
    t.is(it.origin.layer, layers[layers.length - 1], m.path);
  }
  const conf = items.find((i: any) => i.path === '/etc/sapp.conf');
  t.deepEqual(conf.origin, { layer: 3, merges: [], hides: [2, 1] });
  // /etc/motd was deleted by layer 2 and stored again by layer 3: the deleted copy is not hidden by it.
  t.deepEqual(items.find((i: any) => i.path === '/etc/motd').origin, { layer: 3, merges: [], hides: [] });
  const etc = items.find((i: any) => i.path === '/etc');
  t.deepEqual(etc.origin.merges, [2, 1]);
  const text = await cli(['ls', archive('layers'), '/etc', '--origin']);
  t.regex(text.stdout, /sapp\.conf {2}\(layer 3; hides 2,1\)$/m);
});

// ---------- cat / find ----------

test('cat: the bytes of files hash to the truth manifest, also through --layer', async (t) => {
  const img = archive('layers', 'oci-archive-zstd.tar');
  const files = manifestRows(truth('layers', 'rootfs.manifest')).filter((m) => m.type === 'f');
  // The largest, a hard-linked one, a setuid one and an empty one.
  const some = files.filter((m) => ['/usr/lib/libsfoo.so.1', '/srv/hl-c', '/usr/bin/ssuid', '/var/empty-file', '/etc/sapp.conf'].includes(m.path));
  t.is(some.length, 5);
  await Promise.all(
    some.map(async (m) => {
      const r = await cli(['cat', img, m.path]);
      t.is(r.code, 0, r.stderr);
      t.is(createHash('sha256').update(r.raw).digest('hex'), m.sha256, m.path);
    }),
  );
  const old = manifestRows(truth('layers', 'step-1.manifest')).find((m) => m.path === '/etc/sapp.conf')!;
  const r = await cli(['cat', img, '/etc/sapp.conf', '--layer', '1']);
  t.is(createHash('sha256').update(r.raw).digest('hex'), old.sha256);
  // A symlink is followed inside the image.
  const lib = await cli(['cat', img, '/usr/lib/libsfoo.so']);
  t.is(createHash('sha256').update(lib.raw).digest('hex'), files.find((m) => m.path === '/usr/lib/libsfoo.so.1')!.sha256);
});

test('find: regular files largest first, --larger-than and --name filter', async (t) => {
  const img = archive('layers');
  const files = manifestRows(truth('layers', 'rootfs.manifest')).filter((m) => m.type === 'f');
  const all = await json(['find', img]);
  t.deepEqual(
    all.map((f: any) => f.size),
    files.map((m) => Number(m.size)).sort((a, b) => b - a),
  );
  t.deepEqual(all.map((f: any) => `${f.path} ${f.size}`).sort(), files.map((m) => `${m.path} ${m.size}`).sort());
  const big = await json(['find', img, '--larger-than', '90']);
  t.deepEqual(
    big.map((f: any) => f.path).sort(),
    files
      .filter((m) => Number(m.size) > 90)
      .map((m) => m.path)
      .sort(),
  );
  const conf = await json(['find', img, '--name', '*.conf']);
  t.deepEqual(
    conf.map((f: any) => f.path),
    files.filter((m) => m.path.endsWith('.conf')).map((m) => m.path),
  );
  const k = await json(['find', img, '--larger-than', '1k']);
  t.true(k.every((f: any) => f.size > 1024) && k.length === files.filter((m) => Number(m.size) > 1024).length);
});

// ---------- diff-images ----------

test('diff-images: added, removed and changed paths equal changes.py over the two rootfs manifests', async (t) => {
  for (const [a, b] of [
    ['layers', 'whiteouts'],
    ['links', 'layers'],
    ['gnutar', 'umoci'],
  ] as const) {
    const want = lines(await run('python3', [join(FIXTURE_TOOLS, 'changes.py'), join(FIXTURES, a, 'truth/rootfs.manifest'), join(FIXTURES, b, 'truth/rootfs.manifest')]));
    const r = await json(['diff-images', archive(a), archive(b, 'oci-archive-gzip.tar')]);
    // The diff shape (docs/json.md): podman's A/C/D, where changes.py says M.
    const got = r.map((x: any) => (x.kind === 'C' ? `M ${x.path} ${x.fields.join(',')}` : `${x.kind} ${x.path}`));
    t.deepEqual(got.sort(), [...want].sort(), `${a} -> ${b}`);
  }
  const text = await cli(['diff-images', archive('layers'), archive('whiteouts')]);
  t.regex(text.stdout, /^A \/dir2file {2}23 B$/m);
  t.regex(text.stdout, /^\d+ added, \d+ removed, \d+ changed$/m);
});

// ---------- export / export-layer ----------

for (const image of ['layers', 'whiteouts', 'links']) {
  test(`export ${image}: GNU tar unpacks the flattened tar to truth/rootfs.manifest`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'layerfs-export-'));
    try {
      const out = join(dir, 'flat.tar');
      const r = await cli(['export', archive(image, 'oci-archive-zstd.tar'), '-o', out]);
      t.is(r.code, 0, r.stderr);
      const root = join(dir, 'root');
      await run('mkdir', [root]);
      await run('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', out, '-C', root]);
      t.is(await manifestOf(root), truth(image, 'rootfs.manifest'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('export-layer N: the output is the uncompressed layer, its sha256 the diff_id', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-layer-'));
  try {
    const ids: string[] = config('layers').rootfs.diff_ids;
    for (const format of ['oci-archive-gzip.tar']) {
      for (let n = 1; n <= ids.length; n++) {
        const out = join(dir, `l${n}.tar`);
        const r = await cli(['export-layer', archive('layers', format), String(n), '-o', out]);
        t.is(r.code, 0, r.stderr);
        t.is(`sha256:${createHash('sha256').update(readFileSync(out)).digest('hex')}`, ids[n - 1], `${format} layer ${n}`);
      }
    }
    t.is((await cli(['export-layer', archive('layers'), '0', '-o', join(dir, 'x.tar')])).code, 2);
    t.is((await cli(['export-layer', archive('layers'), String(ids.length + 1), '-o', join(dir, 'x.tar')])).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------- images in the state directory ----------

test('IMAGE may be the tag of an image stored in --home', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'layerfs-home-'));
  try {
    const engine = await Engine.open({ home });
    await engine.load(archive('layers'));
    const r = await json(['--home', home, 'inspect', 'localhost/layers:latest']);
    t.deepEqual(
      r.layers.map((l: any) => l.diffId),
      config('layers').rootfs.diff_ids,
    );
    const missing = await cli(['--home', home, 'inspect', 'localhost/nope:latest']);
    t.is(missing.code, 1);
    t.is(lines(missing.stderr).length, 1);
    t.regex(missing.stderr, /^layerfs: .*nope/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

// ---------- errors, help, colour ----------

test('usage errors exit 2, runtime errors exit 1 with one line', async (t) => {
  const img = archive('layers');
  for (const args of [
    ['inspect'],
    ['tree', img, '--layer', 'x'],
    ['tree', img, '--layer', '9'],
    ['ls', img],
    ['cat', img],
    ['find', img, '--larger-than', 'lots'],
    ['export', img],
    ['tree', img, '--layer', '1', '--changes', '1'],
    ['tree', img, '--changes', '0'],
    ['inspect', img, '--bogus'],
    ['diff-images', img],
  ]) {
    const r = await cli(args);
    t.is(r.code, 2, args.join(' '));
  }
  for (const args of [
    ['cat', img, '/no/such/file'],
    ['cat', img, '/etc'],
    ['ls', img, '/nope'],
    ['tree', img, '/nope'],
    ['inspect', join(FIXTURES, 'README.md')],
  ]) {
    const r = await cli(['--home', join(tmpdir(), 'layerfs-unused-home'), ...args]);
    t.is(r.code, 1, args.join(' '));
    t.is(lines(r.stderr).length, 1, r.stderr);
    t.regex(r.stderr, /^layerfs: /);
  }
});

test('--help for every explore command', async (t) => {
  for (const c of ['inspect', 'tree', 'ls', 'cat', 'find', 'diff-images', 'export', 'export-layer']) {
    const r = await cli([c, '--help']);
    t.is(r.code, 0, c);
    t.regex(r.stdout, new RegExp(`^Usage: layerfs ${c}`, 'm'));
  }
  t.regex((await cli(['inspect', '--help'])).stdout, /efficiency {2}= 1 - wasted \/ total/);
});

test('no colour when stdout is not a TTY, even with --changes marks', async (t) => {
  const r = await cli(['tree', archive('whiteouts'), '--changes', '2', '--origin']);
  t.is(r.code, 0);
  t.false(r.stdout.includes('\x1b'));
  t.regex(r.stdout, /\[M content\]/);
});
