/**
 * Hand-written differential scenarios, one per overlayfs rule (IDs from
 * docs/rules.md: the OVL rules and the kernel observations). Each runs on a real overlay mount,
 * asserts the rule's key outcome on the KERNEL result, then runs on the emulator with every copy-up
 * strategy (full, metadata, chunked) and requires identical per-op results, merged tree and upper
 * layer. Skips visibly where overlayfs cannot be mounted.
 */
import test from 'ava';
import { differential, setup } from './kernel/ava.js';
import type { Outcome } from './kernel/harness.js';
import type { KernelOptions } from './kernel/mount.js';
import type { Op, Result } from './ops/ops.js';
import { bigContent, dir, fifo, file, hardlink, opaqueDir, symlink, whiteout, type Spec } from './kernel/spec.js';

const env = setup(test);

const T1 = 1_000_000_000; // DEFAULT_MTIME
const T2 = 1_100_000_000;

function scenario(title: string, spec: Spec, ops: Op[], expect: (k: Outcome, t: import('ava').ExecutionContext) => void, opts: KernelOptions = {}): void {
  test.serial(title, async (t) => {
    await differential(t, env, { spec, opts, ops }, (k) => {
      t.log(ops.map((op, i) => `${i}: ${op.op} → ${JSON.stringify(k.results[i])}`).join('\n'));
      expect(k, t);
    });
  });
}

const ok = (v: unknown = true): Result => ({ ok: v });
const err = (code: string): Result => ({ err: code });
const has = (lines: string[] | null, prefix: string): boolean => !!lines?.some((l) => l.startsWith(prefix));
const line = (lines: string[] | null, prefix: string): string | undefined => lines?.find((l) => l.startsWith(prefix));

// ---- OVL-1 precedence -----------------------------------------------------------------------

scenario(
  'OVL-1 a file in an upper layer hides a lower directory and its children',
  [[dir('a'), file('a/x', 'x')], [file('a', 'top')]],
  [
    { op: 'stat', path: '/a' },
    { op: 'stat', path: '/a/x' },
    { op: 'readFile', path: '/a' },
  ],
  (k, t) => {
    t.like(k.results[0], { ok: { type: 'file' } });
    t.deepEqual(k.results[1], err('ENOTDIR'));
    t.deepEqual(k.results[2], ok('top'));
  },
);

scenario('OVL-1 a directory merges only down to the first non-directory', [[dir('a'), file('a/x')], [file('a', 'f')], [dir('a'), file('a/y')]], [{ op: 'readdir', path: '/a' }], (k, t) =>
  t.deepEqual(k.results[0], ok(['y:file'])),
);

// ---- OVL-2 merged directory attributes -------------------------------------------------------

scenario(
  "OVL-2 a merged directory shows the topmost directory's attributes and nlink 1",
  [
    [dir('a', { mode: 0o700, uid: 5, gid: 6, mtime: T2 }), file('a/x'), dir('a/sub')],
    [dir('a', { mode: 0o750, uid: 7, gid: 8 }), file('a/y')],
  ],
  [
    { op: 'stat', path: '/a' },
    { op: 'readdir', path: '/a' },
  ],
  (k, t) => {
    t.like(k.results[0], { ok: { mode: '0750', uid: 7, gid: 8, nlink: 1, mtime: T1 } });
    t.deepEqual(k.results[1], ok(['sub:dir', 'x:file', 'y:file']));
  },
);

scenario(
  'OVL-2 a directory from one layer only reports its real nlink',
  [[dir('a'), dir('a/s1'), dir('a/s2'), file('a/f')], [file('b')]],
  [
    { op: 'stat', path: '/a' },
    { op: 'mkdir', path: '/n' },
    { op: 'mkdir', path: '/n/s' },
    { op: 'stat', path: '/n' },
  ],
  (k, t) => {
    t.like(k.results[0], { ok: { nlink: 4 } });
    t.like(k.results[3], { ok: { nlink: 3 } });
  },
);

// ---- OVL-3 whiteouts -------------------------------------------------------------------------

scenario(
  'OVL-3 a whiteout hides the lower name and is never listed',
  [
    [file('a', 'x'), file('b', 'y'), dir('d'), file('d/z')],
    [whiteout('a'), whiteout('d')],
  ],
  [
    { op: 'readdir', path: '/' },
    { op: 'stat', path: '/a' },
    { op: 'stat', path: '/d/z' },
    { op: 'exists', path: '/a' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], ok(['b:file']));
    t.deepEqual(k.results[1], err('ENOENT'));
    t.deepEqual(k.results[2], err('ENOENT'));
    t.deepEqual(k.results[3], ok(false));
  },
);

scenario(
  'OVL-3 a file created over a whiteout replaces it',
  [[file('a', 'old')], [whiteout('a')]],
  [
    { op: 'writeFile', path: '/a', data: 'new' },
    { op: 'readFile', path: '/a' },
    { op: 'readdir', path: '/' },
  ],
  (k, t) => {
    t.deepEqual(k.results[1], ok('new'));
    t.true(has(k.upper, 'a file 0644 0:0 size=3'));
  },
);

scenario(
  'OVL-3 a name starting with .wh. can be created through the view (§8)',
  [[file('a')]],
  [
    { op: 'writeFile', path: '/.wh.a', data: 'x' },
    { op: 'readdir', path: '/' },
    { op: 'stat', path: '/a' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], ok());
    t.deepEqual(k.results[1], ok(['.wh.a:file', 'a:file']));
  },
);

// ---- OVL-4 opaque directories ----------------------------------------------------------------

scenario(
  "OVL-4 an opaque directory hides the lower directory's children",
  [
    [dir('a'), file('a/x'), dir('a/d')],
    [opaqueDir('a'), file('a/y')],
  ],
  [
    { op: 'readdir', path: '/a' },
    { op: 'stat', path: '/a/x' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], ok(['y:file']));
    t.deepEqual(k.results[1], err('ENOENT'));
  },
);

scenario(
  'OVL-4 copying up a dir that is opaque in a lower layer does not make the upper copy opaque',
  [
    [dir('d'), file('d/x')],
    [opaqueDir('d'), file('d/y')],
  ],
  [
    { op: 'writeFile', path: '/d/z', data: 'z' },
    { op: 'readdir', path: '/d' },
  ],
  (k, t) => {
    t.deepEqual(k.results[1], ok(['y:file', 'z:file']));
    t.true(has(k.upper, 'd dir 0755 0:0 mtime=now'));
    t.false(line(k.upper, 'd dir')!.includes('opaque'));
  },
);

// ---- OVL-5 readdir merge ---------------------------------------------------------------------

scenario(
  'OVL-5 readdir merges upper and lower names without duplicates or whiteouts',
  [
    [dir('a'), file('a/x'), file('a/y'), dir('a/s')],
    [dir('a'), file('a/y', 'top'), whiteout('a/x'), symlink('a/l', 'y')],
  ],
  [
    { op: 'writeFile', path: '/a/z', data: '' },
    { op: 'unlink', path: '/a/y' },
    { op: 'readdir', path: '/a' },
  ],
  (k, t) => t.deepEqual(k.results[2], ok(['l:symlink', 's:dir', 'z:file'])),
);

// ---- OVL-6 copy-up triggers ------------------------------------------------------------------

scenario(
  'OVL-6 O_TRUNC copies up without a write',
  [[file('f', 'data')]],
  [
    { op: 'open', fd: 1, path: '/f', flags: ['O_RDONLY', 'O_TRUNC'] },
    { op: 'close', fd: 1 },
    { op: 'stat', path: '/f' },
  ],
  (k, t) => {
    t.like(k.results[2], { ok: { size: 0 } });
    t.true(has(k.upper, 'f file 0644 0:0 size=0'));
  },
);

scenario(
  'OVL-6 opening for write copies up even if nothing is written',
  [[dir('d', { mode: 0o750 }), file('d/f', 'data', { mtime: T2 })]],
  [
    { op: 'open', fd: 1, path: '/d/f', flags: ['O_WRONLY'] },
    { op: 'close', fd: 1 },
  ],
  (k, t) => {
    t.true(has(k.upper, 'd dir 0750 0:0 mtime=1000000000'));
    t.true(has(k.upper, `d/f file 0644 0:0 size=4 mtime=${T2} data`));
  },
);

scenario(
  'OVL-6 read-only open, stat, readdir, readlink and access copy nothing up',
  [[dir('d'), file('d/f', 'data'), symlink('d/l', 'f')]],
  [
    { op: 'open', fd: 1, path: '/d/f', flags: ['O_RDONLY'] },
    { op: 'read', fd: 1, length: 10 },
    { op: 'close', fd: 1 },
    { op: 'stat', path: '/d/f' },
    { op: 'readdir', path: '/d' },
    { op: 'readlink', path: '/d/l' },
    { op: 'access', path: '/d/f', mode: 4 },
    { op: 'realpath', path: '/d/l' },
  ],
  (k, t) => {
    t.deepEqual(k.results[1], ok('data'));
    t.deepEqual(k.upper, []);
  },
);

scenario(
  'OVL-6 chmod, chown and utimes copy up metadata with the data',
  [[file('a', 'A'), file('b', 'B'), file('c', 'C', { mtime: T2 })]],
  [
    { op: 'chmod', path: '/a', mode: 0o600 },
    { op: 'chown', path: '/b', uid: 1000, gid: 1000 },
    { op: 'utimes', path: '/c', atime: 900_000_000, mtime: 900_000_000 },
  ],
  (k, t) => t.deepEqual(k.upper, ['a file 0600 0:0 size=1 mtime=1000000000 A', 'b file 0644 1000:1000 size=1 mtime=1000000000 B', 'c file 0644 0:0 size=1 mtime=900000000 C']),
);

scenario(
  'OVL-6 chmod of a lower FIFO copies the FIFO up',
  [[fifo('p', { mode: 0o644 })]],
  [
    { op: 'chmod', path: '/p', mode: 0o600 },
    { op: 'lstat', path: '/p' },
  ],
  (k, t) => {
    t.like(k.results[1], { ok: { type: 'fifo', mode: '0600' } });
    t.true(has(k.upper, 'p fifo 0600'));
  },
);

scenario(
  'OVL-6 link() copies the source up; both names share the upper inode',
  [[dir('d'), file('d/f', 'x')]],
  [
    { op: 'link', from: '/d/f', to: '/g' },
    { op: 'stat', path: '/g' },
    { op: 'sameFile', a: '/d/f', b: '/g' },
  ],
  (k, t) => {
    t.like(k.results[1], { ok: { nlink: 2 } });
    t.deepEqual(k.results[2], ok(true));
    t.true(has(k.upper, 'links d/f g'));
  },
);

scenario(
  'OVL-6 lchown of a lower symlink copies the symlink up',
  [[symlink('l', 'target')]],
  [
    { op: 'chown', path: '/l', uid: 1000, gid: 1000, nofollow: true },
    { op: 'lstat', path: '/l' },
  ],
  (k, t) => {
    t.like(k.results[1], { ok: { type: 'symlink', uid: 1000 } });
    t.true(has(k.upper, 'l symlink 1000:1000 mtime=1000000000 -> target'));
  },
);

// ---- OVL-7 copy-up procedure -----------------------------------------------------------------

scenario(
  'OVL-7 copy-up creates parents with lower metadata, keeps mtime and restores the parent mtime',
  [[dir('a', { mode: 0o750, uid: 3, gid: 4, mtime: T2 }), dir('a/b', { mode: 0o711, uid: 5, gid: 6, mtime: T2 }), file('a/b/f', 'x', { mode: 0o640, uid: 7, gid: 8, mtime: T2 })]],
  [
    { op: 'chmod', path: '/a/b/f', mode: 0o600 },
    { op: 'stat', path: '/a' },
    { op: 'stat', path: '/a/b' },
  ],
  (k, t) => {
    t.like(k.results[1], { ok: { mode: '0750', uid: 3, gid: 4, mtime: T2 } });
    t.like(k.results[2], { ok: { mode: '0711', uid: 5, gid: 6, mtime: T2 } });
    t.deepEqual(k.upper, [`a dir 0750 3:4 mtime=${T2}`, `a/b dir 0711 5:6 mtime=${T2}`, `a/b/f file 0600 7:8 size=1 mtime=${T2} x`]);
  },
);

scenario(
  'OVL-7 a write into the middle of a big lower file keeps every other byte',
  [[file('big', bigContent(100_000))]],
  [
    { op: 'open', fd: 1, path: '/big', flags: ['O_RDWR'] },
    { op: 'write', fd: 1, data: 'XYZ', position: 50_000 },
    { op: 'read', fd: 1, length: 5, position: 49_999 },
    { op: 'close', fd: 1 },
    { op: 'readFile', path: '/big' },
    { op: 'stat', path: '/big' },
  ],
  (k, t) => {
    const want = bigContent(100_000);
    t.deepEqual(k.results[2], ok(`${want[49_999]}XYZ${want[50_003]}`));
    t.like(k.results[5], { ok: { size: 100_000 } });
  },
);

scenario(
  'OVL-7 setgid directory: new files take its group, new subdirs inherit setgid',
  [[dir('s', { mode: 0o2775, gid: 1000 })]],
  [
    { op: 'writeFile', path: '/s/f', data: 'x' },
    { op: 'mkdir', path: '/s/d' },
    { op: 'stat', path: '/s/f' },
    { op: 'stat', path: '/s/d' },
  ],
  (k, t) => {
    t.like(k.results[2], { ok: { gid: 1000, mode: '0644' } });
    t.like(k.results[3], { ok: { gid: 1000, mode: '2755' } });
  },
);

// ---- OVL-8 descriptors across copy-up ---------------------------------------------------------

scenario(
  'OVL-8 read-only fd opened before copy-up sees new data',
  [[file('f', 'old data')]],
  [
    { op: 'open', fd: 1, path: '/f', flags: ['O_RDONLY'] },
    { op: 'writeFile', path: '/f', data: 'NEW' },
    { op: 'read', fd: 1, length: 100, position: 0 },
    { op: 'fstat', fd: 1 },
  ],
  (k, t) => {
    t.deepEqual(k.results[2], ok('NEW'));
    t.like(k.results[3], { ok: { size: 3 } });
  },
);

scenario(
  'OVL-8 read-only fd opened before copy-up sees a truncate',
  [[file('f', 'old data')]],
  [
    { op: 'open', fd: 1, path: '/f', flags: ['O_RDONLY'] },
    { op: 'truncate', path: '/f', length: 2 },
    { op: 'read', fd: 1, length: 100, position: 0 },
  ],
  (k, t) => t.deepEqual(k.results[2], ok('ol')),
);

scenario(
  'OVL-8 ftruncate on a read-only fd is EINVAL; O_APPEND ignores the position (§8)',
  [[file('f', 'abc')]],
  [
    { op: 'open', fd: 1, path: '/f', flags: ['O_RDONLY'] },
    { op: 'ftruncate', fd: 1, length: 0 },
    { op: 'open', fd: 2, path: '/f', flags: ['O_WRONLY', 'O_APPEND'] },
    { op: 'write', fd: 2, data: 'Z', position: 0 },
    { op: 'readFile', path: '/f' },
  ],
  (k, t) => {
    t.deepEqual(k.results[1], err('EINVAL'));
    t.deepEqual(k.results[4], ok('abcZ'));
  },
);

// ---- OVL-9 unlink / rmdir --------------------------------------------------------------------

scenario(
  'OVL-9 unlink of a lower file leaves a whiteout',
  [[dir('d'), file('d/f')]],
  [
    { op: 'unlink', path: '/d/f' },
    { op: 'stat', path: '/d/f' },
    { op: 'readdir', path: '/d' },
  ],
  (k, t) => {
    t.deepEqual(k.results[1], err('ENOENT'));
    t.deepEqual(k.results[2], ok([]));
    t.true(has(k.upper, 'd/f whiteout'));
  },
);

scenario(
  'OVL-9 unlink of a file that exists only in the upper layer leaves nothing',
  [[dir('d')]],
  [
    { op: 'writeFile', path: '/d/new', data: 'x' },
    { op: 'unlink', path: '/d/new' },
  ],
  (k, t) => t.false(has(k.upper, 'd/new')),
);

scenario('OVL-9 rmdir of a lower dir with visible children is ENOTEMPTY', [[dir('d'), file('d/f')]], [{ op: 'rmdir', path: '/d' }], (k, t) => t.deepEqual(k.results[0], err('ENOTEMPTY')));

scenario(
  'OVL-9 rmdir of a merged dir holding only whiteouts leaves one whiteout',
  [
    [dir('d'), file('d/f'), file('d/g')],
    [dir('d'), whiteout('d/g')],
  ],
  [
    { op: 'unlink', path: '/d/f' },
    { op: 'rmdir', path: '/d' },
    { op: 'stat', path: '/d' },
  ],
  (k, t) => {
    t.deepEqual(k.results[1], ok());
    t.deepEqual(k.upper, ['d whiteout']);
  },
);

scenario(
  'OVL-9 rm -r of a lower tree leaves a single whiteout',
  [[dir('d'), dir('d/e'), file('d/e/f'), symlink('d/l', 'e')]],
  [
    { op: 'rm', path: '/d', recursive: true },
    { op: 'exists', path: '/d' },
  ],
  (k, t) => {
    t.deepEqual(k.results[1], ok(false));
    t.deepEqual(k.upper, ['d whiteout']);
  },
);

scenario(
  'OVL-9 rmdir of the root is EBUSY; of a symlink to a dir or "link/" is ENOTDIR (§8)',
  [[dir('d'), symlink('l', 'd')]],
  [
    { op: 'rmdir', path: '/' },
    { op: 'rmdir', path: '/l' },
    { op: 'rmdir', path: '/l/' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], err('EBUSY'));
    t.deepEqual(k.results[1], err('ENOTDIR'));
    t.deepEqual(k.results[2], err('ENOTDIR'));
  },
);

// ---- OVL-10 create over whiteout -------------------------------------------------------------

scenario(
  'OVL-10 mkdir over a whiteout is opaque',
  [[dir('d'), file('d/x')]],
  [
    { op: 'rm', path: '/d', recursive: true },
    { op: 'mkdir', path: '/d' },
    { op: 'readdir', path: '/d' },
  ],
  (k, t) => {
    t.deepEqual(k.results[2], ok([]));
    t.true(has(k.upper, 'd dir 0755 0:0 mtime=now opaque'));
  },
);

scenario(
  'OVL-10 mkdir over a deleted lower file is opaque too (§8)',
  [[file('f')]],
  [
    { op: 'unlink', path: '/f' },
    { op: 'mkdir', path: '/f' },
  ],
  (k, t) => t.true(has(k.upper, 'f dir 0755 0:0 mtime=now opaque')),
);

scenario(
  'OVL-10 mkdir over a name whited out in a lower layer is not made opaque',
  [[dir('g'), file('g/x')], [whiteout('g')]],
  [
    { op: 'mkdir', path: '/g' },
    { op: 'readdir', path: '/g' },
  ],
  (k, t) => {
    t.deepEqual(k.results[1], ok([]));
    t.deepEqual(k.upper, ['g dir 0755 0:0 mtime=now']);
  },
);

// ---- OVL-12..14 rename -----------------------------------------------------------------------

scenario('OVL-12 rename of a lower dir is EXDEV', [[dir('d'), file('d/x')]], [{ op: 'rename', from: '/d', to: '/e' }], (k, t) => t.deepEqual(k.results[0], err('EXDEV')));

scenario(
  'OVL-12 rename of a merged dir is EXDEV, even after it was copied up (§8)',
  [
    [dir('d'), file('d/x')],
    [dir('d'), file('d/y')],
  ],
  [
    { op: 'chmod', path: '/d', mode: 0o700 },
    { op: 'writeFile', path: '/d/z', data: '' },
    { op: 'rename', from: '/d', to: '/e' },
  ],
  (k, t) => t.deepEqual(k.results[2], err('EXDEV')),
);

scenario(
  'OVL-12 a directory created in the upper layer renames freely',
  [[file('f')]],
  [
    { op: 'mkdir', path: '/n' },
    { op: 'writeFile', path: '/n/f', data: '1' },
    { op: 'rename', from: '/n', to: '/m' },
    { op: 'readdir', path: '/m' },
  ],
  (k, t) => {
    t.deepEqual(k.results[2], ok());
    t.deepEqual(k.results[3], ok(['f:file']));
  },
);

scenario(
  'OVL-13 redirect_dir moves a lower dir',
  [[dir('d'), file('d/x', 'X')]],
  [
    { op: 'rename', from: '/d', to: '/e' },
    { op: 'readdir', path: '/e' },
    { op: 'readFile', path: '/e/x' },
    { op: 'stat', path: '/d' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], ok());
    t.deepEqual(k.results[1], ok(['x:file']));
    t.deepEqual(k.results[3], err('ENOENT'));
    t.true(has(k.upper, 'd whiteout'));
  },
  { redirectDir: true },
);

scenario(
  'OVL-13 redirect_dir: a moved dir keeps merging its lower children after further changes',
  [[dir('a'), dir('a/d'), file('a/d/x')], [dir('b')]],
  [
    { op: 'rename', from: '/a/d', to: '/b/d' },
    { op: 'writeFile', path: '/b/d/y', data: 'y' },
    { op: 'unlink', path: '/b/d/x' },
    { op: 'readdir', path: '/b/d' },
    { op: 'readdir', path: '/a' },
  ],
  (k, t) => {
    t.deepEqual(k.results[3], ok(['y:file']));
    t.deepEqual(k.results[4], ok([]));
  },
  { redirectDir: true },
);

scenario(
  'OVL-14 rename of a lower file copies up and leaves a whiteout at the old name',
  [[file('a', 'A', { mtime: T2 })]],
  [
    { op: 'rename', from: '/a', to: '/b' },
    { op: 'readFile', path: '/b' },
    { op: 'exists', path: '/a' },
  ],
  (k, t) => {
    t.deepEqual(k.results[1], ok('A'));
    t.deepEqual(k.upper, ['a whiteout', `b file 0644 0:0 size=1 mtime=${T2} A`]);
  },
);

scenario(
  'OVL-14 a new directory moved into a merged directory is marked opaque (§8)',
  [
    [dir('m'), file('m/x')],
    [dir('m'), file('m/y')],
  ],
  [
    { op: 'mkdir', path: '/n' },
    { op: 'rename', from: '/n', to: '/m/n' },
  ],
  (k, t) => t.true(line(k.upper, 'm/n dir')?.endsWith('opaque') ?? false),
);

scenario(
  'OVL-14 rename over a non-empty merged dir is ENOTEMPTY; type mismatches are EISDIR/ENOTDIR',
  [[dir('d'), file('d/x'), dir('e'), file('f')]],
  [
    { op: 'mkdir', path: '/n' },
    { op: 'rename', from: '/n', to: '/d' },
    { op: 'rename', from: '/f', to: '/e' },
    { op: 'rename', from: '/n', to: '/f' },
  ],
  (k, t) => {
    t.deepEqual(k.results[1], err('ENOTEMPTY'));
    t.deepEqual(k.results[2], err('EISDIR'));
    t.deepEqual(k.results[3], err('ENOTDIR'));
  },
);

scenario(
  'OVL-14 rename between two names of one lower file removes the source (§8)',
  [[file('h1', 'x'), hardlink('h2', 'h1')]],
  [
    { op: 'rename', from: '/h1', to: '/h2' },
    { op: 'exists', path: '/h1' },
    { op: 'readFile', path: '/h2' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], ok());
    t.deepEqual(k.results[1], ok(false));
    t.deepEqual(k.results[2], ok('x'));
  },
);

// ---- OVL-15 hard links -----------------------------------------------------------------------

scenario(
  'OVL-15 index=off breaks hard links on copy-up',
  [[file('h1', 'x'), hardlink('h2', 'h1')]],
  [
    { op: 'sameFile', a: '/h1', b: '/h2' },
    { op: 'appendFile', path: '/h1', data: 'y' },
    { op: 'readFile', path: '/h2' },
    { op: 'sameFile', a: '/h1', b: '/h2' },
    { op: 'stat', path: '/h1' },
    { op: 'stat', path: '/h2' },
    { op: 'unlink', path: '/h1' },
    { op: 'stat', path: '/h2' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], ok(true));
    t.deepEqual(k.results[2], ok('x'));
    t.deepEqual(k.results[3], ok(false));
    t.like(k.results[4], { ok: { nlink: 1 } });
    t.like(k.results[5], { ok: { nlink: 2 } });
    t.like(k.results[7], { ok: { nlink: 2 } });
  },
);

scenario(
  'OVL-15 index=on keeps hard links together across copy-up',
  [[file('h1', 'x'), hardlink('h2', 'h1')]],
  [
    { op: 'appendFile', path: '/h1', data: 'y' },
    { op: 'readFile', path: '/h2' },
    { op: 'sameFile', a: '/h1', b: '/h2' },
    { op: 'stat', path: '/h2' },
    { op: 'unlink', path: '/h1' },
    { op: 'stat', path: '/h2' },
  ],
  (k, t) => {
    t.deepEqual(k.results[1], ok('xy'));
    t.deepEqual(k.results[2], ok(true));
    t.like(k.results[3], { ok: { nlink: 2 } });
    t.like(k.results[5], { ok: { nlink: 1 } });
  },
  { index: true },
);

// ---- OVL-16 metacopy -------------------------------------------------------------------------

scenario(
  'OVL-16 metacopy: chmod copies metadata only, data still reads the same',
  [[file('f', 'payload', { mode: 0o644 })]],
  [
    { op: 'chmod', path: '/f', mode: 0o600 },
    { op: 'readFile', path: '/f' },
    { op: 'rename', from: '/f', to: '/g' },
    { op: 'readFile', path: '/g' },
    { op: 'appendFile', path: '/g', data: '!' },
    { op: 'readFile', path: '/g' },
  ],
  (k, t) => {
    t.deepEqual(k.results[1], ok('payload'));
    t.deepEqual(k.results[3], ok('payload'));
    t.deepEqual(k.results[5], ok('payload!'));
  },
  { metacopy: true },
);

// ---- OVL-18 read-only ------------------------------------------------------------------------

scenario(
  'OVL-18 read-only view',
  [[dir('d'), file('d/f', 'x')], [file('g')]],
  [
    { op: 'writeFile', path: '/d/f', data: 'y' },
    { op: 'unlink', path: '/missing' },
    { op: 'mkdir', path: '/d' },
    { op: 'open', fd: 1, path: '/g', flags: ['O_RDWR', 'O_CREAT', 'O_EXCL'] },
    { op: 'rename', from: '/nope', to: '/x' },
    { op: 'chmod', path: '/g', mode: 0o600 },
    { op: 'readFile', path: '/d/f' },
    { op: 'access', path: '/g', mode: 2 },
    { op: 'rmdir', path: '/nope' },
    { op: 'open', fd: 2, path: '/g', flags: ['O_RDONLY'] },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], err('EROFS'));
    t.deepEqual(k.results[1], err('EROFS'));
    t.deepEqual(k.results[2], err('EEXIST'));
    t.deepEqual(k.results[3], err('EEXIST'));
    t.deepEqual(k.results[4], err('EROFS'));
    t.deepEqual(k.results[5], err('EROFS'));
    t.deepEqual(k.results[6], ok('x'));
    t.deepEqual(k.results[7], err('EROFS'));
    t.deepEqual(k.results[8], err('EROFS'));
    t.deepEqual(k.results[9], ok());
  },
  { readOnly: true },
);

// ---- path resolution -------------------------------------------------------------------------

scenario(
  'ELOOP on a symlink cycle; lstat and readlink still work',
  [[symlink('a', 'b'), symlink('b', 'a'), symlink('s', 's')]],
  [
    { op: 'stat', path: '/a' },
    { op: 'lstat', path: '/a' },
    { op: 'readFile', path: '/s' },
    { op: 'readlink', path: '/b' },
    { op: 'writeFile', path: '/a', data: 'x' },
    { op: 'realpath', path: '/s' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], err('ELOOP'));
    t.like(k.results[1], { ok: { type: 'symlink' } });
    t.deepEqual(k.results[2], err('ELOOP'));
    t.deepEqual(k.results[3], ok('a'));
    t.deepEqual(k.results[4], err('ELOOP'));
    t.deepEqual(k.results[5], err('ELOOP'));
  },
);

scenario(
  'dangling symlinks: stat ENOENT, lstat works, writing through one creates the target',
  [[dir('d'), symlink('d/l', 'missing'), symlink('m', 'd/nodir/x')]],
  [
    { op: 'stat', path: '/d/l' },
    { op: 'lstat', path: '/d/l' },
    { op: 'writeFile', path: '/d/l', data: 'hi' },
    { op: 'readFile', path: '/d/missing' },
    { op: 'writeFile', path: '/m', data: 'x' },
    { op: 'exists', path: '/m' },
    { op: 'mkdir', path: '/d/l' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], err('ENOENT'));
    t.like(k.results[1], { ok: { type: 'symlink', size: 7 } });
    t.deepEqual(k.results[3], ok('hi'));
    t.deepEqual(k.results[4], err('ENOENT'));
    t.deepEqual(k.results[6], err('EEXIST'));
  },
);

scenario(
  'ENOTDIR through a file, with and without a trailing slash',
  [[file('f', 'x'), dir('d')]],
  [
    { op: 'stat', path: '/f/x' },
    { op: 'mkdir', path: '/f/x' },
    { op: 'writeFile', path: '/f/x', data: '' },
    { op: 'stat', path: '/f/' },
    { op: 'readdir', path: '/f' },
    { op: 'unlink', path: '/f/' },
    { op: 'rmdir', path: '/f' },
  ],
  (k, t) => {
    for (const i of [0, 1, 2, 3, 4, 5, 6]) t.deepEqual(k.results[i], err('ENOTDIR'), `op ${i}`);
  },
);

scenario(
  'realpath resolves relative symlinks and ".." across layers',
  [
    [dir('a'), dir('b'), file('b/f')],
    [symlink('a/l', '../b'), symlink('a/m', 'l/f')],
  ],
  [
    { op: 'realpath', path: '/a/l' },
    { op: 'realpath', path: '/a/m' },
    { op: 'realpath', path: '/a/../b/./f' },
    { op: 'readFile', path: '/a/m' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], ok('/b'));
    t.deepEqual(k.results[1], ok('/b/f'));
    t.deepEqual(k.results[2], ok('/b/f'));
  },
);

scenario(
  'EISDIR and EEXIST on the usual suspects',
  [[dir('d'), file('f')]],
  [
    { op: 'readFile', path: '/d' },
    { op: 'unlink', path: '/d' },
    { op: 'writeFile', path: '/d', data: '' },
    { op: 'mkdir', path: '/f' },
    { op: 'symlink', target: 'x', path: '/f' },
    { op: 'link', from: '/f', to: '/d' },
    { op: 'link', from: '/d', to: '/e' },
    { op: 'writeFile', path: '/f', data: 'n', flag: 'wx' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], err('EISDIR'));
    t.deepEqual(k.results[1], err('EISDIR'));
    t.deepEqual(k.results[2], err('EISDIR'));
    t.deepEqual(k.results[3], err('EEXIST'));
    t.deepEqual(k.results[4], err('EEXIST'));
    t.deepEqual(k.results[5], err('EEXIST'));
    t.deepEqual(k.results[6], err('EPERM'));
    t.deepEqual(k.results[7], err('EEXIST'));
  },
);

scenario(
  'root bypasses read/write permission bits but needs an x bit to "execute"',
  [[file('f', 'x', { mode: 0o000 }), file('g', 'y', { mode: 0o644 }), file('h', 'z', { mode: 0o100 })]],
  [
    { op: 'readFile', path: '/f' },
    { op: 'access', path: '/f', mode: 6 },
    { op: 'access', path: '/g', mode: 1 },
    { op: 'access', path: '/h', mode: 1 },
    { op: 'writeFile', path: '/f', data: 'w' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], ok('x'));
    t.deepEqual(k.results[1], ok());
    t.deepEqual(k.results[2], err('EACCES'));
    t.deepEqual(k.results[3], ok());
  },
);

scenario(
  'chown of a setuid lower file clears setuid/setgid',
  [[file('s', 'x', { mode: 0o6755 })]],
  [
    { op: 'chown', path: '/s', uid: 1000, gid: 1000 },
    { op: 'stat', path: '/s' },
  ],
  (k, t) => t.like(k.results[1], { ok: { mode: '0755', uid: 1000 } }),
);

scenario(
  'copyFile from a lower file makes a new upper file; EXCL refuses an existing one',
  [[file('src', 'data', { mode: 0o755 }), file('dst', 'old')]],
  [
    { op: 'copyFile', from: '/src', to: '/new' },
    { op: 'stat', path: '/new' },
    { op: 'copyFile', from: '/src', to: '/dst', excl: true },
    { op: 'copyFile', from: '/src', to: '/dst' },
    { op: 'readFile', path: '/dst' },
  ],
  (k, t) => {
    t.like(k.results[1], { ok: { mode: '0755', size: 4 } });
    t.deepEqual(k.results[2], err('EEXIST'));
    t.deepEqual(k.results[4], ok('data'));
  },
);

scenario(
  'utimes sets fixture times on a lower file and on a dir',
  [[dir('d'), file('d/f')]],
  [
    { op: 'utimes', path: '/d/f', atime: T2, mtime: T2 },
    { op: 'utimes', path: '/d', atime: T2, mtime: 900_000_000 },
    { op: 'stat', path: '/d/f' },
    { op: 'stat', path: '/d' },
  ],
  (k, t) => {
    t.like(k.results[2], { ok: { mtime: T2 } });
    t.like(k.results[3], { ok: { mtime: 900_000_000 } });
  },
);

// ---- kernel behaviour found by the random suite (each was an emulator difference once) ----------

scenario(
  'open(O_CREAT) of "name/" is EISDIR, without O_CREAT ENOTDIR',
  [[file('f', 'x'), symlink('dangling', 'missing')]],
  [
    { op: 'appendFile', path: '/f/', data: 'y' },
    { op: 'writeFile', path: '/f/', data: 'y', flag: 'wx' },
    { op: 'readFile', path: '/f/' },
    { op: 'open', fd: 1, path: '/f/', flags: ['O_RDWR'] },
    { op: 'writeFile', path: '/new/', data: 'y' },
    { op: 'copyFile', from: '/f', to: '/f2/' },
    { op: 'writeFile', path: '/dangling/', data: 'y' },
    { op: 'open', fd: 2, path: '/dangling/', flags: ['O_RDWR', 'O_CREAT', 'O_EXCL'] },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], err('EISDIR'));
    t.deepEqual(k.results[1], err('EISDIR'));
    t.deepEqual(k.results[2], err('ENOTDIR'));
    t.deepEqual(k.results[3], err('ENOTDIR'));
    t.deepEqual(k.results[4], err('EISDIR'));
    t.deepEqual(k.results[5], err('EISDIR'));
    t.deepEqual(k.results[6], err('EISDIR'));
    t.deepEqual(k.results[7], err('EISDIR'));
    t.deepEqual(k.upper, []);
  },
);

scenario(
  'symlink or link to a new name with a trailing slash is ENOENT',
  [[file('f')]],
  [
    { op: 'symlink', target: 'f', path: '/n/' },
    { op: 'link', from: '/f', to: '/m/' },
    { op: 'readdir', path: '/' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], err('ENOENT'));
    t.deepEqual(k.results[1], err('ENOENT'));
    t.deepEqual(k.results[2], ok(['f:file']));
  },
);

scenario(
  'rmdir of "dir/." is EINVAL (rm -r too) and removes nothing',
  [[dir('d'), dir('e')]],
  [
    { op: 'rmdir', path: '/d/.' },
    { op: 'rm', path: '/e/.', recursive: true, force: true },
    { op: 'readdir', path: '/' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], err('EINVAL'));
    t.deepEqual(k.results[1], err('EINVAL'));
    t.deepEqual(k.results[2], ok(['d:dir', 'e:dir']));
  },
);

scenario(
  'OVL-14 renaming a name onto itself is a no-op: nothing copied up, parent untouched',
  [[dir('d'), file('d/f', 'x'), symlink('d/l', 'f'), file('g')]],
  [
    { op: 'rename', from: '/d/f', to: '/d/f' },
    { op: 'rename', from: '/d/l', to: '/d/l' },
    { op: 'rename', from: '/g', to: '/g' },
    { op: 'stat', path: '/d' },
    { op: 'stat', path: '/' },
  ],
  (k, t) => {
    t.like(k.results[3], { ok: { nlink: 2, mtime: T1 } });
    // OVL-26: the root is the upperdir, made with the mount (its mtime is "now" from the start).
    t.like(k.results[4], { ok: { mtime: 'now' } });
    t.deepEqual(k.upper, []);
  },
);

scenario(
  'OVL-6 open(O_TRUNC) stamps mtime even when nothing is written; on a directory it is EISDIR',
  [[file('f', 'data', { mtime: T2 }), dir('d')]],
  [
    { op: 'open', fd: 1, path: '/f', flags: ['O_RDONLY', 'O_TRUNC'] },
    { op: 'fstat', fd: 1 },
    { op: 'open', fd: 2, path: '/d', flags: ['O_RDONLY', 'O_TRUNC'] },
    { op: 'writeFile', path: '/f', data: '' },
    { op: 'stat', path: '/f' },
  ],
  (k, t) => {
    t.like(k.results[1], { ok: { size: 0, mtime: 'now' } });
    t.deepEqual(k.results[2], err('EISDIR'));
  },
);

scenario(
  'OVL-15 index=off: unlinking one name of a lower hard link leaves the other at nlink 2 (§8)',
  [[file('h1', 'x'), hardlink('h2', 'h1')]],
  [
    { op: 'unlink', path: '/h2' },
    { op: 'stat', path: '/h1' },
  ],
  (k, t) => t.like(k.results[1], { ok: { nlink: 2 } }),
);

scenario(
  'OVL-15 index=on: unlinking one name of a lower hard link leaves the other at nlink 1',
  [[file('h1', 'x'), hardlink('h2', 'h1')]],
  [
    { op: 'unlink', path: '/h2' },
    { op: 'stat', path: '/h1' },
  ],
  (k, t) => t.like(k.results[1], { ok: { nlink: 1 } }),
  { index: true },
);

scenario(
  'OVL-2 chmod, chown and utimes of the root change the merged root',
  [[file('f')]],
  [
    { op: 'chmod', path: '/', mode: 0o700 },
    { op: 'chown', path: '/', uid: 1000, gid: 1000 },
    { op: 'utimes', path: '/', atime: T2, mtime: T2 },
    { op: 'stat', path: '/' },
  ],
  (k, t) => t.like(k.results[3], { ok: { mode: '0700', uid: 1000, gid: 1000, mtime: T2 } }),
);

scenario(
  'OVL-10 by default, mkdir in a merged directory is not marked opaque',
  [
    [dir('d'), file('d/x')],
    [dir('d'), file('d/y')],
  ],
  [
    { op: 'mkdir', path: '/d/n' },
    { op: 'mkdir', path: '/n' },
  ],
  (k, t) => t.deepEqual(k.upper, ['d dir 0755 0:0 mtime=now', 'd/n dir 0755 0:0 mtime=now', 'n dir 0755 0:0 mtime=now']),
);

scenario(
  'OVL-10 with redirect_dir=on, mkdir in a merged directory is marked opaque',
  [
    [dir('d'), file('d/x')],
    [dir('d'), file('d/y')],
  ],
  [
    { op: 'mkdir', path: '/d/n' },
    { op: 'mkdir', path: '/n' },
  ],
  (k, t) => t.deepEqual(k.upper, ['d dir 0755 0:0 mtime=now', 'd/n dir 0755 0:0 mtime=now opaque', 'n dir 0755 0:0 mtime=now opaque']),
  { redirectDir: true },
);

scenario(
  'OVL-10 with index=on, mkdir in a merged directory is marked opaque',
  [[dir('d'), file('d/x')]],
  [{ op: 'mkdir', path: '/d/n' }],
  (k, t) => t.deepEqual(k.upper, ['d dir 0755 0:0 mtime=now', 'd/n dir 0755 0:0 mtime=now opaque']),
  { index: true },
);

scenario(
  'OVL-8 a directory fd opened before copy-up sees the new attributes',
  [[dir('d', { mode: 0o1777 }), file('d/f')]],
  [
    { op: 'open', fd: 1, path: '/d', flags: ['O_RDONLY', 'O_DIRECTORY'] },
    { op: 'chmod', path: '/d', mode: 0o700 },
    { op: 'fstat', fd: 1 },
  ],
  (k, t) => t.like(k.results[2], { ok: { type: 'dir', mode: '0700', nlink: 1 } }),
);

scenario(
  'OVL-7 opening for write after chmod keeps the lower mtime (full copy-up)',
  [[file('f', 'payload')]],
  [
    { op: 'chmod', path: '/f', mode: 0o600 },
    { op: 'open', fd: 1, path: '/f', flags: ['O_RDWR'] },
    { op: 'close', fd: 1 },
    { op: 'stat', path: '/f' },
  ],
  (k, t) => t.like(k.results[3], { ok: { mtime: T1 } }),
);

scenario(
  'OVL-16 metacopy=on: the deferred data copy-up stamps the current mtime (masked in comparisons)',
  [[file('f', 'payload')]],
  [
    { op: 'chmod', path: '/f', mode: 0o600 },
    { op: 'open', fd: 1, path: '/f', flags: ['O_RDWR'] },
    { op: 'close', fd: 1 },
    { op: 'stat', path: '/f' },
  ],
  (k, t) => t.like(k.results[3], { ok: { mtime: 'now' } }),
  { metacopy: true },
);

scenario(
  'a zero-length write past EOF neither extends the file nor touches mtime',
  [[file('f', 'abc', { mtime: T2 })]],
  [
    { op: 'open', fd: 1, path: '/f', flags: ['O_RDWR'] },
    { op: 'write', fd: 1, data: '', position: 5000 },
    { op: 'fstat', fd: 1 },
    { op: 'write', fd: 1, data: 'Z', position: 5 },
    { op: 'fstat', fd: 1 },
  ],
  (k, t) => {
    t.deepEqual(k.results[1], ok(0));
    t.like(k.results[2], { ok: { size: 3, mtime: T2 } });
    t.like(k.results[4], { ok: { size: 6, mtime: 'now' } });
  },
);

scenario(
  'rename error precedence: EINVAL into itself, ENOTEMPTY onto an ancestor, EBUSY for "." components',
  [[dir('c'), file('c/y'), dir('a'), symlink('a/x', 'y'), dir('b'), dir('b/x')]],
  [
    { op: 'rename', from: '/c', to: '/c/y' },
    { op: 'rename', from: '/a/x', to: '/a' },
    { op: 'rename', from: '/b/x', to: '/b/x/.' },
    { op: 'rename', from: '/b/x/.', to: '/n' },
    { op: 'rename', from: '/c/y', to: '/' },
    { op: 'rename', from: '/missing', to: '/' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], err('EINVAL'));
    t.deepEqual(k.results[1], err('ENOTEMPTY'));
    t.deepEqual(k.results[2], err('EBUSY'));
    t.deepEqual(k.results[3], err('EBUSY'));
    t.deepEqual(k.results[4], err('EBUSY'));
    t.deepEqual(k.results[5], err('EBUSY'));
    t.deepEqual(k.upper, []);
  },
);

scenario('OVL-12 renaming a lower dir onto a non-empty dir is EXDEV (checked before ENOTEMPTY)', [[dir('e'), file('e/y')], [dir('m')]], [{ op: 'rename', from: '/m', to: '/e' }], (k, t) =>
  t.deepEqual(k.results[0], err('EXDEV')),
);

scenario(
  'unlink of the root is EISDIR; O_CREAT|O_EXCL on the root or "dir/." is EEXIST, plain O_CREAT EISDIR',
  [[dir('e')]],
  [
    { op: 'unlink', path: '/' },
    { op: 'open', fd: 1, path: '/', flags: ['O_RDWR', 'O_CREAT', 'O_EXCL'] },
    { op: 'writeFile', path: '/', data: 'x', flag: 'wx' },
    { op: 'open', fd: 2, path: '/', flags: ['O_RDONLY', 'O_TRUNC'] },
    { op: 'writeFile', path: '/e/.', data: 'x', flag: 'wx' },
    { op: 'writeFile', path: '/e/.', data: 'x' },
    { op: 'open', fd: 3, path: '/', flags: ['O_RDWR', 'O_CREAT'] },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], err('EISDIR'));
    t.deepEqual(k.results[1], err('EEXIST'));
    t.deepEqual(k.results[2], err('EEXIST'));
    t.deepEqual(k.results[3], err('EISDIR'));
    t.deepEqual(k.results[4], err('EEXIST'));
    t.deepEqual(k.results[5], err('EISDIR'));
    t.deepEqual(k.results[6], err('EISDIR'));
  },
);

scenario(
  'OVL-18 read-only view: path errors win over EROFS',
  [[dir('e'), file('e/f')], [file('g')]],
  [
    { op: 'rmdir', path: '/e/.' },
    { op: 'unlink', path: '/' },
    { op: 'rename', from: '/', to: '/e/x' },
    { op: 'link', from: '/e/f', to: '/e/w/' },
    { op: 'open', fd: 1, path: '/', flags: ['O_RDWR', 'O_CREAT'] },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], err('EINVAL'));
    t.deepEqual(k.results[1], err('EISDIR'));
    t.deepEqual(k.results[2], err('EBUSY'));
    t.deepEqual(k.results[3], err('ENOENT'));
    t.deepEqual(k.results[4], err('EISDIR'));
  },
  { readOnly: true },
);

scenario(
  'mkdir ignores S_ISGID in its mode argument (setgid comes only from the parent)',
  [[dir('p'), dir('s', { mode: 0o2775, gid: 1000 })]],
  [
    { op: 'mkdir', path: '/p/d', mode: 0o2775 },
    { op: 'mkdir', path: '/s/d', mode: 0o1777 },
    { op: 'stat', path: '/p/d' },
    { op: 'stat', path: '/s/d' },
  ],
  (k, t) => {
    t.like(k.results[2], { ok: { mode: '0755', gid: 0 } });
    t.like(k.results[3], { ok: { mode: '3755', gid: 1000 } });
  },
);

scenario(
  'OVL-8 a directory fd sees its directory become merged when a child is copied up',
  [[dir('d'), dir('d/x'), dir('d/y')]],
  [
    { op: 'open', fd: 1, path: '/d', flags: ['O_RDONLY'] },
    { op: 'fstat', fd: 1 },
    { op: 'chown', path: '/d/x', uid: 1000, gid: 1000 },
    { op: 'fstat', fd: 1 },
  ],
  (k, t) => {
    t.like(k.results[1], { ok: { nlink: 4 } });
    t.like(k.results[3], { ok: { nlink: 1 } });
  },
);

scenario(
  'chmod through a symlink that resolves to the root changes the root',
  [[dir('d'), symlink('d/up', '..')]],
  [
    { op: 'chmod', path: '/d/up', mode: 0o750 },
    { op: 'stat', path: '/' },
  ],
  (k, t) => t.like(k.results[1], { ok: { mode: '0750' } }),
);

scenario(
  'OVL-15 index=on: renaming over one name of a lower hard link leaves the other at nlink 1',
  [[file('x', 'X'), file('h1', 'h'), hardlink('h2', 'h1')]],
  [
    { op: 'rename', from: '/x', to: '/h2' },
    { op: 'stat', path: '/h1' },
    { op: 'readFile', path: '/h2' },
  ],
  (k, t) => {
    t.like(k.results[1], { ok: { nlink: 1 } });
    t.deepEqual(k.results[2], ok('X'));
  },
  { index: true },
);

scenario(
  'OVL-13 redirect_dir: rename onto a non-empty UPPER dir fails with ENOTEMPTY only after copying the source up',
  [[dir('c'), dir('c/y', { mode: 0o555 }), file('c/y/f'), dir('c/y/s'), dir('low'), file('low/x')]],
  [
    { op: 'mkdir', path: '/e' },
    { op: 'symlink', target: 'x', path: '/e/l' },
    { op: 'stat', path: '/c/y' },
    { op: 'rename', from: '/c/y', to: '/low' },
    { op: 'stat', path: '/c/y' },
    { op: 'rename', from: '/c/y', to: '/e' },
    { op: 'stat', path: '/c/y' },
  ],
  (k, t) => {
    t.like(k.results[2], { ok: { nlink: 3, mode: '0555' } });
    t.deepEqual(k.results[3], err('ENOTEMPTY'), 'a lower/merged target is checked before any copy-up');
    t.like(k.results[4], { ok: { nlink: 3 } });
    t.deepEqual(k.results[5], err('ENOTEMPTY'), 'an upper target is checked by the upper fs, after copy-up');
    t.like(k.results[6], { ok: { nlink: 1, mode: '0555' } }, 'copied up, so now a merged dir');
    t.true(has(k.upper, 'c/y dir 0555'));
  },
  { redirectDir: true },
);

scenario(
  'OVL-9 an fd on a removed object: nlink 0 if it lived in the upper layer, the lower nlink if it was whited out',
  [[dir('ld'), file('lf', 'L'), file('h1', 'h'), hardlink('h2', 'h1')]],
  [
    { op: 'mkdir', path: '/n' },
    { op: 'open', fd: 1, path: '/n', flags: ['O_RDONLY'] },
    { op: 'rmdir', path: '/n' },
    { op: 'fstat', fd: 1 },
    { op: 'open', fd: 2, path: '/ld', flags: ['O_RDONLY'] },
    { op: 'rmdir', path: '/ld' },
    { op: 'fstat', fd: 2 },
    { op: 'writeFile', path: '/uf', data: 'u' },
    { op: 'open', fd: 3, path: '/uf', flags: ['O_RDONLY'] },
    { op: 'unlink', path: '/uf' },
    { op: 'fstat', fd: 3 },
    { op: 'read', fd: 3, length: 10, position: 0 },
    { op: 'open', fd: 4, path: '/lf', flags: ['O_RDONLY'] },
    { op: 'unlink', path: '/lf' },
    { op: 'fstat', fd: 4 },
    { op: 'read', fd: 4, length: 10, position: 0 },
    { op: 'open', fd: 5, path: '/h1', flags: ['O_RDONLY'] },
    { op: 'unlink', path: '/h1' },
    { op: 'fstat', fd: 5 },
  ],
  (k, t) => {
    t.like(k.results[3], { ok: { nlink: 0 } });
    t.like(k.results[6], { ok: { nlink: 2 } });
    t.like(k.results[10], { ok: { nlink: 0 } });
    t.deepEqual(k.results[11], ok('u'));
    t.like(k.results[14], { ok: { nlink: 1 } });
    t.deepEqual(k.results[15], ok('L'));
    t.like(k.results[18], { ok: { nlink: 2 } });
  },
);

scenario(
  'O_CREAT with a trailing slash is EISDIR before the last component is even looked up',
  [[file('f'), symlink('loop', 'loop'), dir('d')]],
  [
    { op: 'copyFile', from: '/f', to: '/loop/', excl: true },
    { op: 'writeFile', path: '/loop/', data: 'x' },
    { op: 'open', fd: 1, path: '/d/', flags: ['O_RDONLY', 'O_CREAT'] },
    { op: 'open', fd: 2, path: '/d/', flags: ['O_RDONLY'] },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], err('EISDIR'));
    t.deepEqual(k.results[1], err('EISDIR'));
    t.deepEqual(k.results[2], err('EISDIR'));
    t.deepEqual(k.results[3], ok());
  },
);
