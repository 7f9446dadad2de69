/**
 * Kernel corners (issue 14), each a differential scenario on a real overlay mount: the rule's key
 * outcome is asserted on the KERNEL result, then the emulator must give identical per-op results,
 * merged tree and upper layer with every copy-up strategy. Rules OVL-23..OVL-27 (semantics.md).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createFs } from '../src/fs/node-fs.js';
import { openLayers } from '../src/index.js';
import { MountCore } from '../src/mounts/router.js';
import { MountTable } from '../src/mounts/table.js';
import { differential, setup, skipped } from './kernel/ava.js';
import type { Outcome } from './kernel/harness.js';
import { mountSpec, type KernelOptions } from './kernel/mount.js';
import type { Op, Result } from './ops/ops.js';
import { dir, fifo, file, hardlink, specTars, symlink, type Spec } from './kernel/spec.js';

const env = setup(test);

const T1 = 1_000_000_000;
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
const line = (lines: string[] | null, prefix: string): string | undefined => lines?.find((l) => l.startsWith(prefix));

/** fchmod, fchown, futimes, ftruncate, fsync and fstat on descriptor slot `fd`. */
const fdCalls = (fd: number): Op[] => [
  { op: 'fchmod', fd, mode: 0o700 },
  { op: 'fchown', fd, uid: 7, gid: 8 },
  { op: 'futimes', fd, atime: T2, mtime: T2 },
  { op: 'ftruncate', fd, length: 1 },
  { op: 'fsync', fd },
  { op: 'fstat', fd },
];

// ---- OVL-23 descriptors hold their object, not its name --------------------------------------

scenario(
  'OVL-23 a read-only descriptor of a lower file whose name was unlinked and reused: fchmod/fchown/futimes are EEXIST, the new file keeps its mode',
  [[file('f', 'lower', { mode: 0o644 })]],
  [
    { op: 'open', fd: 1, path: '/f', flags: ['O_RDONLY'] },
    { op: 'unlink', path: '/f' },
    { op: 'writeFile', path: '/f', data: 'new', mode: 0o600 },
    ...fdCalls(1),
    { op: 'read', fd: 1, length: 100, position: 0 },
    { op: 'stat', path: '/f' },
  ],
  (k, t) => {
    t.deepEqual(k.results.slice(3, 8), [err('EEXIST'), err('EEXIST'), err('EEXIST'), err('EINVAL'), ok()]);
    t.like(k.results[8], { ok: { mode: '0644', uid: 0, size: 5, mtime: T1 } });
    t.deepEqual(k.results[9], ok('lower'));
    t.like(k.results[10], { ok: { mode: '0600', size: 3 } });
  },
);

scenario(
  'OVL-23 a read-only descriptor of a lower file whose name was unlinked (a whiteout there): EEXIST too',
  [[file('f', 'lower')]],
  [{ op: 'open', fd: 1, path: '/f', flags: ['O_RDONLY'] }, { op: 'unlink', path: '/f' }, ...fdCalls(1)],
  (k, t) => t.deepEqual(k.results.slice(2, 5), [err('EEXIST'), err('EEXIST'), err('EEXIST')]),
);

scenario(
  'OVL-23 a descriptor of a lower file renamed away follows it: fchmod changes the renamed file, not the new one at the old name',
  [[file('f', 'lower', { mode: 0o644 })]],
  [
    { op: 'open', fd: 1, path: '/f', flags: ['O_RDONLY'] },
    { op: 'rename', from: '/f', to: '/g' },
    { op: 'writeFile', path: '/f', data: 'new' },
    ...fdCalls(1),
    { op: 'lstat', path: '/g' },
    { op: 'lstat', path: '/f' },
  ],
  (k, t) => {
    t.deepEqual(k.results.slice(3, 6), [ok(), ok(), ok()]);
    t.like(k.results[9], { ok: { type: 'file', mode: '0700', uid: 7, gid: 8, mtime: T2 - 0 } });
    t.like(k.results[10], { ok: { mode: '0644', uid: 0, size: 3 } });
  },
);

scenario(
  'OVL-23 a descriptor of a lower file inside a directory renamed with redirect_dir follows the directory',
  [[dir('d'), file('d/f', 'lower')]],
  [
    { op: 'open', fd: 1, path: '/d/f', flags: ['O_RDONLY'] },
    { op: 'rename', from: '/d', to: '/e' },
    { op: 'mkdir', path: '/d' },
    { op: 'writeFile', path: '/d/f', data: 'new' },
    ...fdCalls(1),
    { op: 'lstat', path: '/e/f' },
    { op: 'lstat', path: '/d/f' },
  ],
  (k, t) => {
    t.deepEqual(k.results[4], ok());
    t.like(k.results[10], { ok: { mode: '0700', uid: 7 } });
    t.like(k.results[11], { ok: { mode: '0644', uid: 0, size: 3 } });
  },
  { redirectDir: true },
);

scenario(
  'OVL-23 a descriptor of a copied-up file keeps its (unlinked) inode: every call changes it, the new file keeps its own',
  [[file('f', 'lower')]],
  [
    { op: 'appendFile', path: '/f', data: '+' },
    { op: 'open', fd: 1, path: '/f', flags: ['O_RDONLY'] },
    { op: 'open', fd: 2, path: '/f', flags: ['O_RDWR'] },
    { op: 'unlink', path: '/f' },
    { op: 'writeFile', path: '/f', data: 'new', mode: 0o600 },
    ...fdCalls(1),
    ...fdCalls(2),
    { op: 'read', fd: 1, length: 100, position: 0 },
    { op: 'stat', path: '/f' },
  ],
  (k, t) => {
    t.deepEqual(k.results.slice(5, 10), [ok(), ok(), ok(), err('EINVAL'), ok()]);
    t.like(k.results[10], { ok: { mode: '0700', uid: 7, gid: 8, nlink: 0, size: 6, mtime: T2 } });
    t.deepEqual(k.results[14], ok());
    t.like(k.results[16], { ok: { mode: '0700', nlink: 0, size: 1 } });
    t.deepEqual(k.results[17], ok('l'));
    t.like(k.results[18], { ok: { mode: '0600', uid: 0, size: 3 } });
  },
);

scenario(
  'OVL-23 a read-write descriptor of a lower file (copied up at open) keeps working after its name is reused',
  [[file('f', 'lower')]],
  [
    { op: 'open', fd: 1, path: '/f', flags: ['O_RDWR'] },
    { op: 'unlink', path: '/f' },
    { op: 'writeFile', path: '/f', data: 'new' },
    { op: 'write', fd: 1, data: 'W', position: 0 },
    ...fdCalls(1),
    { op: 'readFile', path: '/f' },
  ],
  (k, t) => {
    t.deepEqual(k.results.slice(4, 9), [ok(), ok(), ok(), ok(), ok()]);
    t.like(k.results[9], { ok: { mode: '0700', nlink: 0, size: 1 } });
    t.deepEqual(k.results[10], ok('new'));
  },
);

// ---- OVL-24 O_PATH -------------------------------------------------------------------------

scenario(
  'OVL-24 open(symlink, O_PATH|O_NOFOLLOW) is a descriptor of the link itself; only fstat and close take it',
  [[file('f', 'data'), symlink('ln', 'f')]],
  [
    { op: 'open', fd: 1, path: '/ln', flags: ['O_PATH', 'O_NOFOLLOW'] },
    { op: 'fstat', fd: 1 },
    { op: 'read', fd: 1, length: 10, position: 0 },
    { op: 'write', fd: 1, data: 'x', position: 0 },
    ...fdCalls(1),
    { op: 'close', fd: 1 },
  ],
  (k, t) => {
    t.like(k.results[1], { ok: { type: 'symlink', size: 1 } });
    t.deepEqual(k.results.slice(2, 9), [err('EBADF'), err('EBADF'), err('EBADF'), err('EBADF'), err('EBADF'), err('EBADF'), err('EBADF')]);
    t.like(k.results[9], { ok: { type: 'symlink' } });
    t.deepEqual(k.results[10], ok());
    t.deepEqual(k.upper, []);
  },
);

scenario(
  'OVL-24 O_PATH|O_NOFOLLOW|O_DIRECTORY on a symlink is ENOTDIR (not ELOOP); O_NOFOLLOW alone is ELOOP',
  [[dir('d'), symlink('ln', 'd'), symlink('lf', 'f'), file('f')]],
  [
    { op: 'open', fd: 1, path: '/ln', flags: ['O_PATH', 'O_NOFOLLOW', 'O_DIRECTORY'] },
    { op: 'open', fd: 2, path: '/ln', flags: ['O_RDONLY', 'O_NOFOLLOW'] },
    { op: 'open', fd: 3, path: '/ln', flags: ['O_PATH', 'O_DIRECTORY'] },
    { op: 'fstat', fd: 3 },
    { op: 'open', fd: 4, path: '/lf', flags: ['O_PATH', 'O_DIRECTORY'] },
    { op: 'open', fd: 5, path: '/ln/', flags: ['O_PATH', 'O_NOFOLLOW'] },
    { op: 'fstat', fd: 5 },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], err('ENOTDIR'));
    t.deepEqual(k.results[1], err('ELOOP'));
    t.like(k.results[3], { ok: { type: 'dir' } });
    t.deepEqual(k.results[4], err('ENOTDIR'));
    t.like(k.results[6], { ok: { type: 'dir' } }, 'a trailing slash follows the link even with O_NOFOLLOW');
  },
);

scenario(
  'OVL-24 O_PATH ignores O_CREAT, O_TRUNC and the access mode: nothing is created, truncated or copied up',
  [[file('f', 'data', { mtime: T2 }), fifo('p'), symlink('dl', 'missing')]],
  [
    { op: 'open', fd: 1, path: '/f', flags: ['O_PATH', 'O_RDWR', 'O_TRUNC'] },
    { op: 'fstat', fd: 1 },
    { op: 'open', fd: 2, path: '/new', flags: ['O_PATH', 'O_CREAT', 'O_WRONLY'] },
    { op: 'open', fd: 3, path: '/p', flags: ['O_PATH'] },
    { op: 'fstat', fd: 3 },
    { op: 'open', fd: 4, path: '/dl', flags: ['O_PATH'] },
    { op: 'open', fd: 5, path: '/f/', flags: ['O_PATH'] },
    { op: 'open', fd: 6, path: '/', flags: ['O_PATH', 'O_DIRECTORY'] },
    { op: 'fstat', fd: 6 },
  ],
  (k, t) => {
    t.like(k.results[1], { ok: { type: 'file', size: 4, mtime: T2 } });
    t.deepEqual(k.results[2], err('ENOENT'));
    t.like(k.results[4], { ok: { type: 'fifo' } });
    t.deepEqual(k.results[5], err('ENOENT'));
    t.deepEqual(k.results[6], err('ENOTDIR'));
    t.like(k.results[8], { ok: { type: 'dir' } });
    t.deepEqual(k.upper, []);
  },
);

// ---- OVL-25 symlink targets ------------------------------------------------------------------

scenario(
  'OVL-25 a symlink target ending in "/" that names a file is ENOTDIR when followed',
  [[file('f', 'data'), dir('d'), symlink('l1', 'f/'), symlink('l2', 'd/'), symlink('l3', 'f/.'), symlink('l4', 'l1'), symlink('l5', 'missing/')]],
  [
    { op: 'stat', path: '/l1' },
    { op: 'readFile', path: '/l1' },
    { op: 'open', fd: 1, path: '/l1', flags: ['O_RDONLY'] },
    { op: 'stat', path: '/l2' },
    { op: 'stat', path: '/l3' },
    { op: 'stat', path: '/l4' },
    { op: 'lstat', path: '/l1' },
    { op: 'writeFile', path: '/l1', data: 'x' },
    { op: 'writeFile', path: '/l5', data: 'x' },
    { op: 'realpath', path: '/l1' },
    { op: 'exists', path: '/l1' },
    { op: 'chmod', path: '/l1', mode: 0o600 },
    { op: 'readdir', path: '/l2' },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], err('ENOTDIR'));
    t.deepEqual(k.results[1], err('ENOTDIR'));
    t.deepEqual(k.results[2], err('ENOTDIR'));
    t.like(k.results[3], { ok: { type: 'dir' } });
    t.deepEqual(k.results[4], err('ENOTDIR'));
    t.deepEqual(k.results[5], err('ENOTDIR'));
    t.like(k.results[6], { ok: { type: 'symlink', size: 2 } });
  },
);

scenario(
  'OVL-25 open with O_CREAT does not look up a last name that a link target gave a trailing slash: EISDIR',
  [[file('f', 'data'), symlink('a', 'b/x'), symlink('c', 'a/'), symlink('d', 'f/')]],
  [
    { op: 'writeFile', path: '/c', data: 'x' },
    { op: 'open', fd: 1, path: '/c', flags: ['O_RDONLY'] },
    { op: 'open', fd: 2, path: '/c', flags: ['O_WRONLY', 'O_CREAT', 'O_EXCL'] },
    { op: 'open', fd: 3, path: '/a/', flags: ['O_WRONLY', 'O_CREAT', 'O_EXCL'] },
    { op: 'open', fd: 4, path: '/d', flags: ['O_RDONLY'] },
    { op: 'writeFile', path: '/d', data: 'x' },
    { op: 'open', fd: 5, path: '/a/', flags: ['O_WRONLY', 'O_CREAT', 'O_NOFOLLOW'] },
  ],
  (k, t) => {
    t.deepEqual(k.results[0], err('EISDIR'));
    t.deepEqual(k.results[1], err('ENOENT'));
    t.deepEqual(k.results[2], err('EEXIST'));
    t.deepEqual(k.results[3], err('EISDIR'));
    t.deepEqual(k.results[4], err('ENOTDIR'));
    t.deepEqual(k.results[5], err('EISDIR'));
    t.deepEqual(k.results[6], err('EISDIR'));
  },
);

scenario(
  'OVL-25 lstat of a symlink reports the byte length of its target (é中 is 5 bytes)',
  [[file('é中', 'u'), symlink('u', 'é中'), dir('d')]],
  [
    { op: 'lstat', path: '/u' },
    { op: 'readlink', path: '/u' },
    { op: 'readFile', path: '/u' },
    { op: 'symlink', target: 'd/é中/', path: '/d/v' },
    { op: 'lstat', path: '/d/v' },
    { op: 'stat', path: '/d/v' },
  ],
  (k, t) => {
    t.like(k.results[0], { ok: { type: 'symlink', size: 5 } });
    t.deepEqual(k.results[1], ok('é中'));
    t.like(k.results[4], { ok: { type: 'symlink', size: 8 } });
    t.deepEqual(k.results[5], err('ENOENT'));
    t.true(line(k.upper, 'd/v symlink')?.includes('é中/'));
  },
);

// ---- OVL-26 the root is the writable layer's directory, made with the mount ------------------

scenario(
  'OVL-26 the merged root shows the upperdir: mode and owner of the image root, mtime of its making, nlink 1',
  [[dir('', { mode: 0o750, uid: 5, gid: 6, mtime: T2 }), dir('a'), dir('b'), file('f')]],
  [
    { op: 'stat', path: '/' },
    { op: 'lstat', path: '/.' },
    { op: 'stat', path: '/a/..' },
  ],
  (k, t) => {
    t.like(k.results[0], { ok: { type: 'dir', mode: '0750', uid: 5, gid: 6, nlink: 1, mtime: 'now' } });
    t.deepEqual(k.results[1], k.results[0]);
    t.deepEqual(k.results[2], k.results[0]);
  },
);

scenario(
  'OVL-26 a read-only overlay has no upperdir: its root shows the top lower root (merged, nlink 1)',
  [
    [dir('', { mode: 0o700, mtime: T1 }), dir('a')],
    [dir('', { mode: 0o750, uid: 5, gid: 6, mtime: T2 }), file('f')],
  ],
  [{ op: 'stat', path: '/' }],
  (k, t) => t.like(k.results[0], { ok: { mode: '0750', uid: 5, gid: 6, nlink: 1, mtime: T2 } }),
  { readOnly: true },
);

// ---- OVL-27 the root cannot be renamed, replaced or removed -----------------------------------

scenario(
  'OVL-27 rename onto or of the root is EBUSY (checked before EXDEV of a lower directory); rmdir of it EBUSY, unlink EISDIR',
  [[dir('d'), file('f')]],
  [
    { op: 'rename', from: '/d', to: '/' },
    { op: 'rename', from: '/', to: '/x' },
    { op: 'rename', from: '/f', to: '/' },
    { op: 'rename', from: '/d', to: '/e' },
    { op: 'rmdir', path: '/' },
    { op: 'unlink', path: '/' },
  ],
  (k, t) => {
    t.deepEqual(k.results.slice(0, 3), [err('EBUSY'), err('EBUSY'), err('EBUSY')]);
    t.deepEqual(k.results[3], err('EXDEV'));
    t.deepEqual(k.results[4], err('EBUSY'));
    t.deepEqual(k.results[5], err('EISDIR'));
  },
);

/**
 * The scenarios above name the view's root as `${mnt}/.` (see ops.ts); this checks that mapping
 * against a process whose root IS the overlay (python3 chroot()ed into the mount, the way a
 * container's processes see it), for the root's renames and the empty name, in the union and in
 * the mount router.
 */
test.serial('OVL-27 inside a chroot on the overlay: rename of or onto "/" is EBUSY, an empty name ENOENT (union and mount router)', async (t) => {
  if (skipped(t, env)) return;
  const pairs: Array<[string, string]> = [
    ['/d', '/'],
    ['/', '/x'],
    ['/f', '/'],
    ['d', '.'],
    ['/d', ''],
    ['', '/d'],
    ['/d', '/e'],
  ];
  const spec: Spec = [[dir('d'), file('f')]];
  const m = await mountSpec(env.scratch!, spec, {});
  let kernel: string[];
  try {
    const py = [
      'import os, sys, json',
      'os.chroot(sys.argv[1])',
      'os.chdir("/")',
      'out = []',
      `for a, b in ${JSON.stringify(pairs)}:`,
      '    try:',
      '        os.rename(a, b); out.append("ok")',
      '    except OSError as e:',
      '        out.append(errno.errorcode[e.errno])',
      'print(json.dumps(out))',
    ]
      .join('\n')
      .replace('import os, sys, json', 'import os, sys, json, errno');
    const r = spawnSync('python3', ['-c', py, m.mnt], { encoding: 'utf8' });
    t.is(r.status, 0, r.stderr);
    kernel = JSON.parse(r.stdout) as string[];
  } finally {
    m.release();
  }
  t.deepEqual(kernel.slice(0, 4), ['EBUSY', 'EBUSY', 'EBUSY', 'EBUSY']);
  t.deepEqual(kernel.slice(4, 6), ['ENOENT', 'ENOENT']);
  t.is(kernel[6], 'EXDEV');
  if (env.noEmulator) return;
  const code = (f: () => void): string => {
    try {
      f();
      return 'ok';
    } catch (e) {
      return (e as { code?: string }).code ?? String(e);
    }
  };
  const view = await openLayers(await specTars(spec), { umask: 0o022 });
  try {
    t.deepEqual(
      pairs.map(([a, b]) => code(() => view.fs.renameSync(a, b))),
      kernel,
      'union view',
    );
    const router = createFs(new MountCore(new MountTable({ target: '/', core: view.core, readOnly: false, kind: 'layer' }, [])));
    t.deepEqual(
      pairs.map(([a, b]) => code(() => router.renameSync(a, b))),
      kernel,
      'mount router',
    );
  } finally {
    view.close();
  }
});

// Found by the random suite (seed 7, case 247): with index=on, unlinking one name of a lower hard
// link moves the inode to the index; a descriptor held on it sees the new count.
scenario(
  'OVL-23 index=on: a descriptor on one name of a lower hard link sees the link count drop when that name is unlinked',
  [[dir('m'), file('m/q', 'data'), hardlink('m/w', 'm/q')]],
  [
    { op: 'open', fd: 1, path: '/m/q', flags: ['O_PATH'] },
    { op: 'open', fd: 2, path: '/m/w', flags: ['O_RDONLY'] },
    { op: 'unlink', path: '/m/q' },
    { op: 'fstat', fd: 1 },
    { op: 'fstat', fd: 2 },
    { op: 'stat', path: '/m/w' },
    { op: 'fchmod', fd: 2, mode: 0o600 },
    { op: 'stat', path: '/m/w' },
  ],
  (k, t) => {
    t.like(k.results[3], { ok: { nlink: 1 } });
    t.like(k.results[4], { ok: { nlink: 1 } });
  },
  { index: true },
);
