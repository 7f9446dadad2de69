/**
 * Self-checks of the differential harness itself (test/kernel/): the two layer materialisers mean the
 * same thing, kernel outcomes are deterministic after normalisation, the safety guards fire, mounts
 * never outlive a failure, and the shrinker minimises. Kernel parts skip visibly without root.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { extract } from 'tar-stream';
import { setup, skipped } from './kernel/ava.js';
import { genCase, lowerView, sanitizeSpec } from './kernel/gen.js';
import { effectiveSpec, runKernel, shrink, type Case, type Difference } from './kernel/harness.js';
import { mountSpec } from './kernel/mount.js';
import { readXattrs } from './kernel/native.js';
import { describeOp, kernelGuard, walkEscapes, type Op } from './ops/ops.js';
import { dir, file, hardlink, layerTar, materializeLayer, opaqueDir, symlink, whiteout, fifo, normalizeLayer, DEFAULT_MTIME } from './kernel/spec.js';

const env = setup(test);

async function tarEntries(buf: Buffer): Promise<Array<{ name: string; type: string; linkname?: string | null; mode?: number; uid?: number; size?: number; mtime?: Date }>> {
  const ex = extract();
  const out: Array<{ name: string; type: string; linkname?: string | null; mode?: number; uid?: number; size?: number; mtime?: Date }> = [];
  const done = (async () => {
    for await (const entry of ex) {
      const h = entry.header;
      out.push({ name: h.name, type: String(h.type), linkname: h.linkname, mode: h.mode, uid: h.uid, size: h.size, mtime: h.mtime });
      entry.resume();
    }
  })();
  ex.end(buf);
  await done;
  return out;
}

const LAYER = [
  file('a/b/f', 'hi', { mode: 0o4755, uid: 7, mtime: 1_100_000_000 }),
  hardlink('a/h', 'a/b/f'),
  whiteout('a/gone'),
  opaqueDir('o', { mode: 0o700 }),
  symlink('o/l', '../a'),
  fifo('p'),
  whiteout('top'),
];

test('spec → OCI tar: whiteouts, opaque markers, explicit parents first, links after targets', async (t) => {
  const es = await tarEntries(await layerTar(LAYER));
  t.deepEqual(
    es.map((e) => `${e.name} ${e.type}${e.linkname ? ` ${e.linkname}` : ''}`),
    ['./ directory', 'a/ directory', 'a/b/ directory', 'a/b/f file', 'a/.wh.gone file', 'o/ directory', 'o/.wh..wh..opq file', 'o/l symlink ../a', 'p fifo', '.wh.top file', 'a/h link a/b/f'],
  );
  const f = es.find((e) => e.name === 'a/b/f')!;
  t.is(f.mode, 0o4755);
  t.is(f.uid, 7);
  t.is(f.size, 2);
  t.is(f.mtime!.getTime(), 1_100_000_000_000);
  t.is(es.find((e) => e.name === 'a/')!.mtime!.getTime(), DEFAULT_MTIME * 1000);
  t.is(es.find((e) => e.name === 'a/h')!.mode, 0o4755, "a hard link header repeats its target's mode");
  t.is(es.find((e) => e.name === 'o/')!.mode, 0o700);
  const zero = await tarEntries(await layerTar([file('z', '', { mode: 0 }), dir('d', { mode: 0 })]));
  t.deepEqual(
    zero.filter((e) => e.name !== './').map((e) => [e.name, e.mode]),
    [
      ['d/', 0],
      ['z', 0],
    ],
    'mode 0 survives',
  );
});

test('spec validation refuses what neither side could represent', (t) => {
  t.throws(() => normalizeLayer([file('a'), file('a/b')]), { message: /under non-dir/ });
  t.throws(() => normalizeLayer([file('a'), whiteout('a')]), { message: /duplicate/ });
  t.throws(() => normalizeLayer([hardlink('h', 'missing')]), { message: /hard link/ });
  t.throws(() => normalizeLayer([file('.wh.x')]), { message: /bad path/ });
});

test('spec → lowerdir: char 0/0 whiteouts, opaque xattr, modes, owners, mtimes, shared inodes', async (t) => {
  if (skipped(t, env)) return;
  const d = env.scratch!.fresh('m');
  await materializeLayer(LAYER, d);
  const wh = fs.lstatSync(path.join(d, 'a/gone'));
  t.true(wh.isCharacterDevice());
  t.is(wh.rdev, 0);
  const xa = await readXattrs(d);
  t.is(xa.get('o')?.['trusted.overlay.opaque']?.toString(), 'y');
  t.false(xa.has('a'));
  const f = fs.statSync(path.join(d, 'a/b/f'));
  t.is(f.mode & 0o7777, 0o4755);
  t.is(f.uid, 7);
  t.is(f.mtimeMs, 1_100_000_000_000);
  t.is(fs.statSync(path.join(d, 'a/h')).ino, f.ino);
  t.is(fs.statSync(path.join(d, 'a')).mtimeMs, DEFAULT_MTIME * 1000, 'parent mtime set after its children were made');
  t.is(fs.statSync(path.join(d, 'o')).mode & 0o7777, 0o700);
  t.true(fs.lstatSync(path.join(d, 'p')).isFIFO());
  t.is(fs.readlinkSync(path.join(d, 'o/l')), '../a');
});

function mounted(p: string): boolean {
  return fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === p);
}

test('a mount is released even when the body throws, and even with an fd still open', async (t) => {
  if (skipped(t, env)) return;
  const m = await mountSpec(env.scratch!, [[file('f', 'x')]], {});
  t.true(mounted(m.mnt));
  const fd = fs.openSync(path.join(m.mnt, 'f'), 'r');
  try {
    await t.throwsAsync(async () => {
      try {
        throw new Error('boom');
      } finally {
        const r = m.release();
        t.true(r.ok);
        t.true(r.lazy, 'busy mount needs the umount -l fallback');
      }
    });
  } finally {
    fs.closeSync(fd);
  }
  t.false(mounted(m.mnt));
});

test('kernel outcomes are deterministic after normalisation (same case twice)', async (t) => {
  if (skipped(t, env)) return;
  for (let i = 0; i < 25; i++) {
    const c = genCase(4242, i);
    const a = await runKernel(env.scratch!, c);
    const b = await runKernel(env.scratch!, c);
    t.deepEqual(a, b, `case ${i}`);
  }
});

test('generated cases are plain JSON and reproducible', (t) => {
  for (let i = 0; i < 50; i++) {
    const c = genCase(99, i);
    t.deepEqual(JSON.parse(JSON.stringify(c)), c);
    t.deepEqual(genCase(99, i), c);
    for (const op of c.ops) t.true(describeOp(op).length > 0);
  }
  t.notDeepEqual(genCase(99, 1), genCase(99, 2));
});

test('lowerView applies whiteouts, opaque dirs and non-dir replacement like OCI', (t) => {
  const v = lowerView([
    [dir('a'), file('a/x'), dir('b'), file('b/y'), dir('c'), file('c/z'), file('d')],
    [whiteout('a'), opaqueDir('b'), file('b/w'), file('c'), dir('d'), file('d/q')],
  ]);
  t.deepEqual([...v].sort(), [
    ['b', 'dir'],
    ['b/w', 'file'],
    ['c', 'file'],
    ['d', 'dir'],
    ['d/q', 'file'],
  ]);
});

test('safety guards: escapes above the root, FIFOs and same-file copies are skipped', async (t) => {
  if (skipped(t, env)) return;
  const m = await mountSpec(
    env.scratch!,
    [[dir('d'), symlink('up', '..'), symlink('d/ok', '../d'), symlink('abs', '/etc'), symlink('d/deep', '../../x'), fifo('p'), file('f', 'x'), hardlink('g', 'f')]],
    {},
  );
  try {
    t.true(walkEscapes(m.mnt, '/up', true));
    t.false(walkEscapes(m.mnt, '/up', false), 'lstat of the link itself does not climb');
    t.true(walkEscapes(m.mnt, '/up/x', false));
    t.false(walkEscapes(m.mnt, '/d/ok/ok', true));
    t.true(walkEscapes(m.mnt, '/abs', true));
    t.true(walkEscapes(m.mnt, '/d/deep', true));
    t.true(walkEscapes(m.mnt, '/..', false));
    t.false(walkEscapes(m.mnt, '/f/..', false), 'ENOTDIR stops the walk before it climbs');
    const g = kernelGuard(m.mnt);
    const cases: Array<[Op, string | undefined]> = [
      [{ op: 'readFile', path: '/p' }, 'fifo'],
      [{ op: 'lstat', path: '/p' }, undefined],
      [{ op: 'copyFile', from: '/f', to: '/g' }, 'same-file'],
      [{ op: 'copyFile', from: '/f', to: '/f' }, 'same-file'],
      [{ op: 'copyFile', from: '/f', to: '/new' }, undefined],
      [{ op: 'symlink', target: '../../..', path: '/d/s' }, undefined],
      [{ op: 'stat', path: '/up/etc' }, 'escape'],
    ];
    for (const [op, want] of cases) t.is(g(op), want, describeOp(op));
  } finally {
    m.release();
  }
});

test('a one-layer read-only case gets an empty bottom layer on both sides', (t) => {
  const c: Case = { spec: [[file('f')]], opts: { readOnly: true }, ops: [] };
  t.is(effectiveSpec(c).length, 2);
  t.deepEqual(effectiveSpec(c)[0], []);
  t.is(effectiveSpec({ ...c, opts: {} }).length, 1);
});

test('the shrinker keeps only what the difference needs', async (t) => {
  // A fake difference: "unlink of /a/x after a writeFile of /a/x, with a/x in some layer".
  const probe = async (c: Case): Promise<Difference | undefined> => {
    const w = c.ops.findIndex((o) => o.op === 'writeFile' && o.path === '/a/x');
    const u = c.ops.findIndex((o, i) => i > w && o.op === 'unlink' && o.path === '/a/x');
    const inSpec = c.spec.some((l) => l.some((e) => e.path === 'a/x'));
    return w >= 0 && u >= 0 && inSpec ? { where: 'op', index: u, key: 'op:unlink', text: 'fake' } : undefined;
  };
  const noise: Op[] = [
    { op: 'stat', path: '/b' },
    { op: 'mkdir', path: '/c' },
    { op: 'readdir', path: '/' },
  ];
  const c: Case = {
    spec: [
      [dir('b'), file('b/y')],
      [file('a/x', '1'), symlink('l', 'a')],
    ],
    opts: { redirectDir: true, index: true },
    ops: [...noise, { op: 'writeFile', path: '/a/x', data: 'q' }, ...noise, { op: 'unlink', path: '/a/x' }, ...noise],
  };
  const first = await probe(c);
  t.truthy(first);
  const small = await shrink(c, first!, probe);
  t.deepEqual(small.c.ops, [
    { op: 'writeFile', path: '/a/x', data: 'q' },
    { op: 'unlink', path: '/a/x' },
  ]);
  t.deepEqual(small.c.spec, [[file('a/x', '1')]]);
  t.deepEqual(small.c.opts, {});
});

test('sanitizeSpec drops whiteouts the kernel would list (parent not merged with a lower dir)', (t) => {
  const spec = [
    [dir('a'), dir('a/z'), file('a/z/q'), whiteout('r')],
    [opaqueDir('a'), dir('a/z'), whiteout('a/z/q'), dir('n'), whiteout('n/x'), dir('b'), whiteout('top')],
    [dir('a'), whiteout('a/z'), dir('n'), whiteout('n/x')],
  ];
  t.deepEqual(sanitizeSpec(spec), [
    [dir('a'), dir('a/z'), file('a/z/q'), whiteout('r')],
    [opaqueDir('a'), dir('a/z'), dir('n'), dir('b'), whiteout('top')],
    [dir('a'), whiteout('a/z'), dir('n'), whiteout('n/x')],
  ]);
});
