/**
 * Differential tests of the namespace and metadata calls (stat, readdir, mkdir, rm, rename,
 * symlink, link, chmod, chown, utimes...): real fs in a temp directory against
 * createFs(MemfsCore), in the sync, callback and promise flavours.
 */
import { constants as C } from 'node:fs';
import { cut as cutRoot, norm } from './fs/compare.js';
import { diff } from './fs/scenario.js';

/** A small tree: file f, dir d with a file, symlinks to both, a dangling one and a loop. */
async function fixture(run: (name: string, ...args: unknown[]) => Promise<unknown>, p: (rel: string) => string) {
  await run('writeFile', p('f'), 'hello');
  await run('mkdir', p('d'));
  await run('writeFile', p('d/inner'), 'x');
  await run('symlink', 'f', p('lf'));
  await run('symlink', 'd', p('ld'));
  await run('symlink', 'nowhere', p('dangling'));
  await run('symlink', 'loop2', p('loop1'));
  await run('symlink', 'loop1', p('loop2'));
}

diff('stat, lstat, exists, access', async ({ run, p, flavour }) => {
  await fixture(run, p);
  for (const path of ['f', 'd', 'lf', 'ld', 'dangling', 'loop1', 'missing', 'f/', 'lf/', 'ld/', 'f/x', 'd/.', 'd/..', '']) {
    await run('stat', p(path));
    await run('lstat', p(path));
    await run('exists', p(path));
  }
  await run('stat', p('f'), { bigint: true });
  if (flavour === 'sync') {
    // throwIfNoEntry: false hides ENOENT only (Node 20); stat without options throws.
    await run('stat', p('missing'), { throwIfNoEntry: false });
    await run('lstat', p('missing'), { throwIfNoEntry: false });
    await run('stat', p('f/x'), { throwIfNoEntry: false });
    await run('stat', p('missing'), {});
  } else {
    await run('stat', p('missing'), { throwIfNoEntry: false });
  }
  await run('access', p('f'));
  await run('access', p('f'), C.R_OK | C.W_OK);
  await run('access', p('f'), C.X_OK);
  await run('access', p('d'), C.X_OK);
  await run('chmod', p('f'), 0o744);
  await run('access', p('f'), C.X_OK);
  await run('access', p('dangling'));
  await run('access', p('missing'), C.F_OK);
});

diff(
  'readdir: names, Dirents, encodings, recursive',
  async ({ run, p, flavour, side, note }) => {
    await fixture(run, p);
    await run('mkdir', p('d/sub'));
    await run('writeFile', p('d/sub/deep'), '');
    await run('readdir', p(''));
    await run('readdir', p('d'), { withFileTypes: true });
    await run('readdir', p('ld'), { withFileTypes: true });
    await run('readdir', p('d'), 'buffer');
    await run('readdir', p('d'), { encoding: 'hex' });
    await run('readdir', p('f'));
    await run('readdir', p('missing'));
    await run('readdir', p('dangling'));
    if (flavour === 'sync') {
      await run('readdir', p('d'), { recursive: true });
      await run('readdir', p('d'), { recursive: true, withFileTypes: true });
      return;
    }
    // Node 20's fs.readdir calls back synchronously when `recursive` is set (it runs the sync walk);
    // this fs calls back later, as for every other call. Only the results are compared here.
    const fs = side.fs as typeof import('node:fs');
    for (const options of [{ recursive: true }, { recursive: true, withFileTypes: true }]) {
      const readdir = fs.readdir as (path: string, o: object, cb: (err: unknown, r: unknown) => void) => void;
      const got = await new Promise((resolve) => readdir(p('d'), options, (err, r) => resolve(norm(err ?? r, side.root))));
      note('readdir recursive (callback)', got);
    }
  },
  ['sync', 'callback'],
);

// fs.promises.readdir walks depth-first where the sync walk is breadth-first; sorted, they agree.
diff(
  'readdir: recursive (promises)',
  async ({ run, p }) => {
    await fixture(run, p);
    await run('mkdir', p('d/sub'));
    await run('writeFile', p('d/sub/deep'), '');
    await run('readdir', p(''), { recursive: true, withFileTypes: true });
    await run('readdir', p('d'), { recursive: true });
  },
  ['promise'],
);

diff('mkdir: errors, modes, recursive return values', async ({ run, p }) => {
  await fixture(run, p);
  await run('mkdir', p('d'));
  await run('mkdir', p('f'));
  await run('mkdir', p('missing/x'));
  await run('mkdir', p('f/x'));
  await run('mkdir', p('m1'), 0o700);
  await run('mkdir', p('m2'), '750');
  await run('mkdir', p('m3'), { mode: 0o777 });
  await run('mkdir', p('slash/'));
  await run('mkdir', p('a/b/c'), { recursive: true });
  await run('mkdir', p('a/b/c'), { recursive: true });
  await run('mkdir', p('a/b/c/d/'), { recursive: true });
  await run('mkdir', p('a//x/./y'), { recursive: true });
  await run('mkdir', p('f'), { recursive: true });
  await run('mkdir', p('f/x/y'), { recursive: true });
  await run('mkdir', p('ld/new/deeper'), { recursive: true });
  await run('mkdir', p('ld'), { recursive: true });
  await run('mkdir', p('dangling/x'), { recursive: true });
  await run('mkdir', p('dangling'), { recursive: true });
  await run('mkdir', p('lf/x'), { recursive: true });
  await run('mkdir', p('loop1/x'), { recursive: true });
  await run('mkdir', p('r'), { recursive: true, mode: 0o711 });
});

diff('rm, rmdir, unlink', async ({ run, p }) => {
  await fixture(run, p);
  await run('mkdir', p('tree/a/b'), { recursive: true });
  await run('writeFile', p('tree/a/b/file'), 'x');
  await run('symlink', '../../d', p('tree/a/tod'));
  await run('rm', p('d'));
  await run('rm', p('missing'));
  await run('rm', p('missing'), { force: true });
  await run('rm', p('f/x'), { force: true });
  await run('rm', p('f/x'), { force: true, recursive: true });
  await run('rm', p('tree'), { recursive: true });
  await run('exists', p('d/inner'));
  // A symlink to a directory is unlinked, never followed.
  await run('rm', p('ld'), { recursive: true });
  await run('exists', p('d/inner'));
  await run('symlink', 'd', p('ld2'));
  await run('rm', p('ld2/'), { recursive: true });
  await run('rm', p('ld2/'));
  await run('rm', p('lf'));
  await run('rm', p('dangling'));
  await run('rmdir', p('d'));
  await run('rmdir', p('f'));
  await run('rmdir', p('ld2'));
  await run('rmdir', p('missing'));
  await run('unlink', p('d'));
  await run('unlink', p('f/'));
  await run('unlink', p('ld2/'));
  await run('unlink', p('missing'));
  await run('mkdir', p('empty'));
  await run('rmdir', p('empty/'));
  await run('rm', p('d'), { recursive: true, force: true });
  await run('unlink', p('f'));
});

diff('rename: over files and directories, into itself, same inode', async ({ run, p }) => {
  await fixture(run, p);
  await run('writeFile', p('g'), 'gee');
  await run('mkdir', p('e'));
  await run('mkdir', p('e2'));
  await run('rename', p('g'), p('f'));
  await run('rename', p('f'), p('d'));
  await run('rename', p('d'), p('f'));
  await run('rename', p('e'), p('d'));
  await run('rename', p('e'), p('e2'));
  await run('rename', p('d'), p('d/inner2'));
  await run('rename', p('d'), p('d/x/y'));
  await run('rename', p('d'), p('ld/y'));
  await run('rename', p('f'), p('f'));
  await run('link', p('f'), p('fh'));
  await run('rename', p('f'), p('fh'));
  await run('rename', p('missing'), p('x'));
  await run('rename', p('f'), p('missing/x'));
  await run('rename', p('f'), p('f2/'));
  await run('rename', p('f/'), p('f2'));
  await run('rename', p('lf'), p('lf2'));
  await run('rename', p('d/'), p('d3/'));
  await run('rename', p('ld/'), p('ld3'));
});

diff('symlink, readlink, realpath', async ({ run, p }) => {
  await fixture(run, p);
  await run('mkdir', p('d/sub'));
  await run('symlink', '../f', p('d/sub/up'));
  await run('symlink', 'sub/..', p('d/dotdot'));
  await run('symlink', 'x', p('f'));
  await run('symlink', 'x', p('new/'));
  await run('symlink', '', p('empty'));
  await run('readlink', p('lf'));
  await run('readlink', p('lf'), 'buffer');
  await run('readlink', p('f'));
  await run('readlink', p('ld/'));
  await run('readlink', p('lf/'));
  await run('readlink', p('missing'));
  for (const path of ['f', 'lf', 'ld', 'ld/inner', 'd/sub/up', 'ld/sub/up', 'd/dotdot', 'd/dotdot/..', 'ld/..', 'd/sub/../..', 'dangling', 'loop1', 'missing/x', 'f/', 'lf/', 'ld/', 'd//inner']) {
    await run('realpath', p(path));
  }
  await run('realpath', p('ld/inner'), 'buffer');
});

diff(
  'realpath.native',
  async ({ side, p, note }) => {
    const fs = side.fs as typeof import('node:fs');
    await fixture(async (name: string, ...args: unknown[]) => (fs as any)[`${name}Sync`](...args), p);
    const cut = (s: string) => cutRoot(s, side.root);
    for (const path of ['lf', 'ld/inner', 'ld/..', 'dangling', 'loop1', 'f/', 'ld/']) {
      try {
        note(path, cut(fs.realpathSync.native(p(path))));
      } catch (e) {
        const err = e as Error & { code: string; syscall: string };
        note(path, [err.code, err.syscall, cut(err.message)]);
      }
      const cb = await new Promise((resolve) => fs.realpath.native(p(path), (err, r) => resolve(err ? (err as Error & { code: string }).code : cut(r))));
      note(`${path} (callback)`, cb);
    }
  },
  ['sync'],
);

diff('link and nlink', async ({ run, p }) => {
  await fixture(run, p);
  await run('link', p('f'), p('h'));
  await run('stat', p('f'));
  await run('stat', p('h'));
  await run('writeFile', p('h'), 'changed');
  await run('readFile', p('f'), 'utf8');
  await run('unlink', p('f'));
  await run('stat', p('h'));
  await run('link', p('d'), p('hd'));
  await run('link', p('lf'), p('hl'));
  await run('lstat', p('hl'));
  await run('link', p('h'), p('lf'));
  await run('link', p('missing'), p('x'));
  await run('link', p('h'), p('new/'));
  await run('link', p('h'), p('missing/x'));
  await run('stat', p('d'));
  await run('mkdir', p('d/sub'));
  await run('stat', p('d'));
});

diff('chmod, chown, lchown', async ({ run, p }) => {
  await fixture(run, p);
  await run('chmod', p('f'), 0o4755);
  await run('stat', p('f'));
  await run('chown', p('f'), 1000, 1000);
  await run('stat', p('f'));
  await run('chmod', p('f'), 0o6775);
  await run('chown', p('f'), -1, 7);
  await run('stat', p('f'));
  await run('chmod', p('f'), 0o6745);
  await run('chown', p('f'), 5, -1);
  await run('stat', p('f'));
  await run('chmod', p('d'), '2755');
  await run('chown', p('d'), 3, 3);
  await run('stat', p('d'));
  await run('chmod', p('lf'), 0o600);
  await run('lstat', p('lf'));
  await run('stat', p('lf'));
  await run('lchown', p('lf'), 9, 9);
  await run('lstat', p('lf'));
  await run('stat', p('lf'));
  await run('chown', p('ld'), 11, 12);
  await run('stat', p('d'));
  await run('chmod', p('missing'), 0o600);
  await run('chown', p('dangling'), 1, 1);
  await run('lchown', p('dangling'), 1, 1);
  await run('chmod', p('f/'), 0o600);
});

diff(
  'fchmod, fchown, futimes',
  async ({ run, p, side }) => {
    const fs = side.fs as typeof import('node:fs');
    await run('writeFile', p('f'), 'x');
    const fd = fs.openSync(p('f'), 'r');
    await run('fchmod', fd, 0o4711);
    await run('fchown', fd, 42, 43);
    await run('futimes', fd, 1234, new Date(5678000));
    await run('fstat', fd);
    await run('close', fd);
    await run('fchmod', fd, 0o600);
    await run('stat', p('f'));
  },
  ['sync', 'callback'],
);

diff('utimes and lutimes (whole milliseconds)', async ({ run, p, side, note }) => {
  const fs = side.fs as typeof import('node:fs');
  await fixture(run, p);
  await run('utimes', p('f'), 1000, 2000);
  await run('utimes', p('d'), new Date(3_000_000), '4000');
  await run('utimes', p('lf'), 1.5, 2.25);
  await run('lutimes', p('ld'), 100, 200);
  await run('utimes', p('missing'), 1, 1);
  await run('utimes', p('dangling'), 1, 1);
  await run('lutimes', p('dangling'), 7, 8);
  for (const path of ['f', 'd', 'ld', 'dangling']) {
    const st = fs.lstatSync(p(path));
    note(path, [st.atimeMs, st.mtimeMs, st.mtime.toISOString()]);
  }
  // Times libuv cannot turn into a timespec are EINVAL from the kernel.
  await run('utimes', p('f'), new Date(NaN), 9);
  await run('utimes', p('f'), 'Infinity', 9);
  await run('lutimes', p('f'), 1e20, 9);
  await run('utimes', p('f'), -1, 9);
  await run('utimes', p('f'), '-5', 7);
  const st = fs.statSync(p('f'));
  note('negative string', [st.atimeMs, st.mtimeMs]);
});

diff('mkdtemp', async ({ side, p, note, flavour }) => {
  const fs = side.fs as typeof import('node:fs');
  const cut = (s: string) => cutRoot(s, side.root);
  fs.mkdirSync(p('tmp'));
  const made =
    flavour === 'sync'
      ? fs.mkdtempSync(p('tmp/x-'))
      : flavour === 'promise'
        ? await fs.promises.mkdtemp(p('tmp/x-'))
        : await new Promise<string>((resolve, reject) => fs.mkdtemp(p('tmp/x-'), (e, r) => (e ? reject(e) : resolve(r))));
  note('shape', cut(made).replace(/[A-Za-z0-9]{6}$/, 'XXXXXX'));
  note('mode', fs.statSync(made).mode & 0o7777);
  note('listing', fs.readdirSync(p('tmp')).length);
  try {
    fs.mkdtempSync(p('missing/x-'));
  } catch (e) {
    const err = e as Error & { code: string; syscall: string; path: string };
    note('error', [err.code, err.syscall, cut(err.path), cut(err.message)]);
  }
  note('buffer', Buffer.isBuffer(fs.mkdtempSync(p('tmp/b-'), 'buffer')));
  // The names are random: the tree compared afterwards must not hold them.
  fs.rmSync(p('tmp'), { recursive: true });
});

diff(
  'opendir',
  async ({ side, p, note }) => {
    const fs = side.fs as typeof import('node:fs');
    fs.mkdirSync(p('d/sub'), { recursive: true });
    fs.writeFileSync(p('d/a'), '');
    fs.writeFileSync(p('d/sub/b'), '');
    const dir = fs.opendirSync(p('d'));
    const names: string[] = [];
    for (let d = dir.readSync(); d; d = dir.readSync()) names.push(`${d.name}:${d.isDirectory()}`);
    note('readSync', names.sort());
    dir.closeSync();
    try {
      dir.closeSync();
    } catch (e) {
      note('closed twice', (e as Error & { code: string }).code);
    }
    const all: string[] = [];
    for await (const d of await fs.promises.opendir(p('d'), { recursive: true } as never)) all.push(d.name);
    note('recursive', all.sort());
    try {
      fs.opendirSync(p('d/a'));
    } catch (e) {
      const err = e as Error & { code: string; syscall: string };
      note('opendir of a file', [err.code, err.syscall]);
    }
  },
  ['sync'],
);
