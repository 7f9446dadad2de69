/**
 * Unit tests of the union core on hand-written layers. Each expectation comes from the rule named
 * in the test title (docs/rules.md); the kernel differential suite checks the same
 * rules against a real overlay mount.
 */
import test from 'ava';
import { constants as C } from 'node:fs';
import type { Entry } from '../src/entry.js';
import { buildLayer } from '../src/layer/build.js';
import { flatten } from '../src/layer/flatten.js';
import { UnionCore } from '../src/union/core.js';
import type { UnionOptions } from '../src/union/state.js';
import type { Inode } from '../src/layer/inode.js';
import { upperEntries } from '../src/union/upper.js';
import { dir, file, hardlink, opaque, symlink, whiteout } from './helpers/entries.js';

function union(layers: Entry[][], opts: UnionOptions = {}): UnionCore {
  return new UnionCore(flatten(layers.map((l, i) => buildLayer(l, i, `layer${i}`))), opts);
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

function read(u: UnionCore, path: string): string {
  const fd = u.open(path, C.O_RDONLY, 0);
  const buf = Buffer.alloc(1 << 16);
  const n = u.read(fd, buf, 0, buf.length, 0);
  u.close(fd);
  return buf.subarray(0, n).toString();
}

function names(u: UnionCore, path: string): string[] {
  return u
    .readdir(path)
    .map((d) => d.name)
    .sort();
}

test('OVL-1 a file in an upper layer hides a lower directory; walking through it is ENOTDIR', (t) => {
  const u = union([[dir('a'), file('a/x', 'x')], [file('a', 'now a file')]]);
  t.is(u.stat('/a', false).mode & C.S_IFMT, C.S_IFREG);
  t.is(
    code(() => u.stat('/a/x', false)),
    'ENOTDIR',
  );
});

test('OVL-2 a merged directory takes the attributes of its topmost copy', (t) => {
  const u = union([
    [dir('d', 0o700), file('d/x', '1')],
    [dir('d', 0o751), file('d/y', '2')],
  ]);
  t.is(u.stat('/d', false).mode & 0o7777, 0o751);
  t.deepEqual(names(u, '/d'), ['x', 'y']);
});

test('OCI-6 a layer whiteout never hides an entry of the same layer, whatever the order', (t) => {
  const u = union([
    [dir('d'), file('d/x', 'old'), file('d/y', 'y')],
    [file('d/x', 'new'), whiteout('d/x'), whiteout('d/y')],
  ]);
  t.is(read(u, '/d/x'), 'new');
  t.deepEqual(names(u, '/d'), ['x']);
});

test('OCI-7 an opaque marker hides lower children but keeps the layer own ones', (t) => {
  const u = union([
    [dir('d'), file('d/old', 'o')],
    [file('d/new', 'n'), opaque('d')],
  ]);
  t.deepEqual(names(u, '/d'), ['new']);
});

test('OVL-9 unlink of a lower file writes a whiteout; of an upper-only file, none', (t) => {
  const u = union([[dir('d'), file('d/low', 'l')]]);
  u.close(u.open('/d/new', C.O_CREAT | C.O_WRONLY, 0o644));
  u.unlink('/d/low');
  u.unlink('/d/new');
  t.is(
    code(() => u.stat('/d/low', false)),
    'ENOENT',
  );
  t.deepEqual(names(u, '/d'), []);
  const up = upperEntries(u.s).map((e) => `${e.type} ${e.path}`);
  t.deepEqual(up, ['dir d', 'whiteout d/low']);
});

test('OVL-9 rmdir of a directory with visible lower children is ENOTEMPTY', (t) => {
  const u = union([[dir('d'), file('d/x', 'x')]]);
  t.is(
    code(() => u.rmdir('/d')),
    'ENOTEMPTY',
  );
  u.unlink('/d/x');
  u.rmdir('/d');
  t.is(
    code(() => u.stat('/d', false)),
    'ENOENT',
  );
});

test('OVL-10 mkdir over a whiteout makes an opaque directory; old children stay hidden', (t) => {
  const u = union([[dir('d'), file('d/x', 'x')]]);
  u.unlink('/d/x');
  u.rmdir('/d');
  u.mkdir('/d', 0o755);
  t.deepEqual(names(u, '/d'), []);
  t.true(upperEntries(u.s).some((e) => e.type === 'opaque' && e.path === 'd'));
});

test('OVL-12 rename of a lower directory is EXDEV; OVL-13 redirectDir moves it', (t) => {
  const layers = [[dir('d'), file('d/x', 'x')]];
  t.is(
    code(() => union(layers).rename('/d', '/e')),
    'EXDEV',
  );
  const r = union(layers, { redirectDir: true });
  r.rename('/d', '/e');
  t.is(read(r, '/e/x'), 'x');
  t.is(
    code(() => r.stat('/d', false)),
    'ENOENT',
  );
});

test('OVL-14 renaming a lower file copies it up and leaves a whiteout', (t) => {
  const u = union([[file('f', 'data')]]);
  u.rename('/f', '/g');
  t.is(read(u, '/g'), 'data');
  t.deepEqual(
    upperEntries(u.s).map((e) => `${e.type} ${e.path}`),
    ['whiteout f', 'file g'],
  );
});

test('OVL-6 open with O_TRUNC copies up without a write; a read-only open never copies up', (t) => {
  const u = union([[file('f', 'data'), file('g', 'keep')]]);
  u.close(u.open('/g', C.O_RDONLY, 0));
  t.is(u.s.stats.copyUps, 0);
  u.close(u.open('/f', C.O_RDONLY | C.O_TRUNC, 0));
  t.is(read(u, '/f'), '');
  t.is(u.s.stats.copyUps, 1);
});

test('OVL-8 a read-only descriptor opened before copy-up reads the new data (kernel 6.18)', (t) => {
  const u = union([[file('f', 'old')]]);
  const ro = u.open('/f', C.O_RDONLY, 0);
  const wr = u.open('/f', C.O_WRONLY | C.O_TRUNC, 0);
  u.write(wr, Buffer.from('new!'), 0, 4, null);
  const buf = Buffer.alloc(8);
  t.is(buf.subarray(0, u.read(ro, buf, 0, 8, 0)).toString(), 'new!');
});

test('OVL-15 index=off: copy-up breaks a hard link; index=on keeps it', (t) => {
  const layers = [[file('h1', 'same'), hardlink('h2', 'h1')]];
  const off = union(layers);
  const fd = off.open('/h1', C.O_WRONLY | C.O_APPEND, 0);
  off.write(fd, Buffer.from('+'), 0, 1, null);
  t.is(read(off, '/h2'), 'same');
  const on = union(layers, { index: true });
  const fd2 = on.open('/h1', C.O_WRONLY | C.O_APPEND, 0);
  on.write(fd2, Buffer.from('+'), 0, 1, null);
  t.is(read(on, '/h2'), 'same+');
});

test('OVL-18 a read-only view refuses every mutation with EROFS', (t) => {
  const u = union([[file('f', 'x'), dir('d')]], { readOnly: true });
  t.is(
    code(() => u.open('/f', C.O_WRONLY, 0)),
    'EROFS',
  );
  t.is(
    code(() => u.unlink('/f')),
    'EROFS',
  );
  t.is(
    code(() => u.mkdir('/n', 0o755)),
    'EROFS',
  );
  t.is(
    code(() => u.mkdir('/d', 0o755)),
    'EEXIST',
  );
  t.is(
    code(() => u.chmod('/f', 0o600, true)),
    'EROFS',
  );
});

test('symlinks resolve inside the view root: absolute targets and .. never leave it', (t) => {
  const u = union([[dir('etc'), file('etc/passwd', 'root:x'), dir('a'), symlink('a/up', '../../../../etc/passwd'), symlink('abs', '/etc/passwd'), symlink('loop', 'loop')]]);
  t.is(read(u, '/a/up'), 'root:x');
  t.is(read(u, '/abs'), 'root:x');
  t.is(u.realpath('/a/up'), '/etc/passwd');
  t.is(
    code(() => u.stat('/loop', true)),
    'ELOOP',
  );
});

for (const copyUp of ['full', 'metadata', 'chunked'] as const) {
  test(`copy-up strategy ${copyUp}: a 1-byte write in the middle reads back the same everywhere`, (t) => {
    const big = Buffer.alloc(1 << 20, 'a');
    const u = union([[file('big', big)]], { copyUp });
    u.chmod('/big', 0o600, true);
    const fd = u.open('/big', C.O_RDWR, 0);
    u.write(fd, Buffer.from('Z'), 0, 1, 500_000);
    const out = Buffer.alloc(big.length);
    t.is(u.read(fd, out, 0, out.length, 0), big.length);
    const expected = Buffer.from(big);
    expected[500_000] = 'Z'.charCodeAt(0);
    t.true(out.equals(expected));
    const copied = u.s.stats.copyUpBytes;
    if (copyUp === 'chunked') t.true(copied <= 4096, `chunked copied ${copied}`);
    else t.is(copied, big.length);
  });
}

test('OCI-9 a directory over a directory keeps the children below and takes the new attributes', (t) => {
  const u = union([
    [dir('d', 0o700), file('d/old', 'o')],
    [dir('d', 0o755), file('d/new', 'n')],
  ]);
  t.deepEqual(names(u, '/d'), ['new', 'old']);
  t.is(u.stat('/d', false).mode & 0o7777, 0o755);
});

test('OCI-9 a directory over a file or symlink replaces it', (t) => {
  const u = union([
    [file('a', 'file'), symlink('b', 'a')],
    [dir('a'), file('a/x', 'x'), dir('b')],
  ]);
  t.is(u.stat('/a', false).mode & C.S_IFMT, C.S_IFDIR);
  t.is(u.stat('/b', false).mode & C.S_IFMT, C.S_IFDIR);
  t.deepEqual(names(u, '/b'), []);
});

test('OCI-14 a parent missing from the archive is implicit: new ones 0755 root, existing ones keep their attributes', (t) => {
  const u = union([[dir('keep', 0o711)], [file('keep/f', 'f'), file('new/deep/f', 'g')]]);
  t.is(u.stat('/keep', false).mode & 0o7777, 0o711);
  const st = u.stat('/new/deep', false);
  t.is(st.mode & 0o7777, 0o755);
  t.is(st.uid, 0);
});

test('OVL-21 lower layers are frozen: writing lower data is an explicit error', (t) => {
  const u = union([[file('f', 'data')]]);
  const lower = u.s.lowerRoot.children!.get('f') as Inode;
  t.throws(() => lower.data!.write(Buffer.from('x'), 0, 1, 0), { message: /lower layer/ });
});
