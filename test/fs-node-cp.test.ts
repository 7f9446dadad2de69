/**
 * NODE-FS: cp, cpSync and promises.cp with Node 20's options (recursive, force, errorOnExist,
 * filter, dereference, preserveTimestamps, verbatimSymlinks, mode), on Node's fs and on layerfs
 * (see fs/node-suite.ts), in the three flavours: every outcome (errors with code, syscall, path
 * and message), the errno of cp's own errors, and the final tree must be Node's.
 */
import { constants as C } from 'node:fs';
import { norm } from './fs/compare.js';
import { nodeTest } from './fs/node-suite.js';
import type { Steps } from './fs/scenario.js';

type Fs = typeof import('node:fs');

/** cp in the scenario's flavour, recording the outcome. */
async function cp({ run }: Steps, ...args: unknown[]): Promise<void> {
  await run('cp', ...args);
}

/** The same call, but the errno of cp's SystemErrors is compared too. */
async function cpErrno(s: Steps, ...args: unknown[]): Promise<void> {
  const fs = s.side.fs as Fs & Record<string, (...a: unknown[]) => unknown>;
  let errno: unknown = 'none';
  try {
    if (s.flavour === 'sync') fs.cpSync(...(args as [string, string]));
    else await fs.promises.cp(...(args as [string, string]));
  } catch (e) {
    errno = [(e as { code?: string }).code, (e as { errno?: number }).errno, (e as { info?: unknown }).info && norm(e, s.side.root)];
  }
  s.note('errno', errno);
}

nodeTest(
  "cp copies files: force (default), force false, errorOnExist, mode, and Node's argument errors",
  async (s) => {
    const { p, side } = s;
    const fs = side.fs as Fs;
    fs.writeFileSync(p('f'), 'file f');
    fs.chmodSync(p('f'), 0o640);
    fs.writeFileSync(p('old'), 'old content');
    await cp(s, p('f'), p('new'));
    await cp(s, p('f'), p('old'));
    fs.writeFileSync(p('kept'), 'kept');
    await cp(s, p('f'), p('kept'), { force: false });
    await cp(s, p('f'), p('kept'), { force: false, errorOnExist: true });
    await cpErrno(s, p('f'), p('kept'), { force: false, errorOnExist: true });
    await cp(s, p('f'), p('excl'), { mode: C.COPYFILE_EXCL });
    await cp(s, p('f'), p('excl'), { mode: C.COPYFILE_EXCL });
    await cp(s, p('f'), p('deep/er/copy'));
    await cp(s, p('f'), p('f'));
    await cpErrno(s, p('f'), p('f'));
    await cp(s, p('missing'), p('x'));
    await cp(s, p('f/x'), p('x'));
    await cp(s, p('f'), p('f/x'));
    fs.mkdirSync(p('dir'));
    await cp(s, p('f'), p('dir'));
    await cpErrno(s, p('f'), p('dir'));
    for (const bad of [{ recursive: 1 }, { force: 'yes' }, { errorOnExist: null }, { mode: 9 }, { mode: 1.5 }, { filter: 'x' }, { dereference: true, verbatimSymlinks: true }, 5, null, 'utf8']) {
      await s.run('cp', p('f'), p('y'), bad);
    }
    await s.run('cp', 5, p('y'));
    await s.run('cp', p('f'), { x: 1 });
    await s.run('cp', new URL(`file://${p('f')}`), p('from-url'));
    // Node 20 refuses Buffer paths in cp (after validating them as paths): nothing is copied.
    await s.run('cp', Buffer.from(p('f')), p('from-buffer'));
    await s.run('cp', p('f'), Buffer.from(p('to-buffer')));
    await s.run('cp', Buffer.from(p('f')), 5);
  },
  { flavours: ['sync', 'callback', 'promise'] },
);

nodeTest(
  'cp copies directories: recursive, merge into an existing one, into itself, over files, filter',
  async (s) => {
    const { p, side, flavour } = s;
    const fs = side.fs as Fs;
    fs.mkdirSync(p('src/sub/deeper'), { recursive: true });
    fs.writeFileSync(p('src/a'), 'a');
    fs.writeFileSync(p('src/sub/b'), 'b');
    fs.writeFileSync(p('src/sub/deeper/c'), 'c');
    fs.writeFileSync(p('src/skip.tmp'), 'skip');
    fs.chmodSync(p('src/sub'), 0o750);
    await cp(s, p('src'), p('nope'));
    await cpErrno(s, p('src'), p('nope'));
    await cp(s, p('src'), p('copy'), { recursive: true });
    fs.mkdirSync(p('merge'));
    fs.writeFileSync(p('merge/a'), 'older a');
    fs.writeFileSync(p('merge/own'), 'own');
    await cp(s, p('src'), p('merge'), { recursive: true, force: false });
    // (With several names in conflict, which one is met first is the directory's order.)
    fs.mkdirSync(p('one'));
    fs.writeFileSync(p('one/a'), 'new a');
    await cp(s, p('one'), p('merge'), { recursive: true, force: false, errorOnExist: true });
    await cp(s, p('one'), p('merge'), { recursive: true });
    await cp(s, p('src'), p('src/sub/inside'), { recursive: true });
    await cp(s, p('src'), p('src'), { recursive: true });
    fs.writeFileSync(p('file'), 'file');
    await cp(s, p('src'), p('file'), { recursive: true });
    await cpErrno(s, p('src'), p('file'), { recursive: true });
    fs.symlinkSync('src', p('src-link'));
    await cp(s, p('src/sub'), p('src-link/sub/x'), { recursive: true });
    const seen: string[] = [];
    const filter = (from: string, to: string) => {
      seen.push(`${from.replace(side.root, '')} -> ${to.replace(side.root, '')}`);
      return !from.endsWith('.tmp');
    };
    await cp(s, p('src'), p('filtered'), { recursive: true, filter });
    s.note('filter calls', seen.sort());
    await cp(s, p('src'), p('none'), { recursive: true, filter: () => false });
    if (flavour === 'sync') await cp(s, p('src'), p('promised'), { recursive: true, filter: async () => true });
    else await cp(s, p('src'), p('async-filter'), { recursive: true, filter: async (from: string) => !from.includes('deeper') });
  },
  { flavours: ['sync', 'callback', 'promise'] },
);

nodeTest(
  'cp copies symlinks (made absolute, or verbatimSymlinks), dereference, replaces links, preserveTimestamps',
  async (s) => {
    const { p, side } = s;
    const fs = side.fs as Fs;
    fs.mkdirSync(p('d/inner'), { recursive: true });
    fs.writeFileSync(p('d/target'), 'target');
    fs.symlinkSync('target', p('d/rel'));
    fs.symlinkSync('inner', p('d/dirlink'));
    await cp(s, p('d/rel'), p('abs-copy'));
    await cp(s, p('d/rel'), p('verbatim-copy'), { verbatimSymlinks: true });
    await cp(s, p('d/rel'), p('deref-copy'), { dereference: true });
    await cp(s, p('d'), p('tree'), { recursive: true });
    await cp(s, p('d'), p('tree-verbatim'), { recursive: true, verbatimSymlinks: true });
    await cp(s, p('d'), p('tree-deref'), { recursive: true, dereference: true });
    fs.symlinkSync('elsewhere', p('other-link'));
    await cp(s, p('d/rel'), p('other-link'));
    // A link over a link whose target is inside src's target: refused.
    fs.symlinkSync(p('d/inner'), p('into-inner'));
    await cp(s, p('d/dirlink'), p('into-inner'));
    await cpErrno(s, p('d/dirlink'), p('into-inner'));
    // A link to a directory above the target of src's link.
    fs.symlinkSync(p('d'), p('to-d'));
    await cp(s, p('d/dirlink'), p('to-d'));
    await cpErrno(s, p('d/dirlink'), p('to-d'));
    // A link over a regular file: readlink fails with EINVAL, symlink then with EEXIST.
    fs.writeFileSync(p('plain'), 'plain');
    await cp(s, p('d/rel'), p('plain'));
    fs.writeFileSync(p('stamped'), 'stamped');
    fs.utimesSync(p('stamped'), 1_000_000, 2_000_000);
    fs.chmodSync(p('stamped'), 0o444);
    await cp(s, p('stamped'), p('stamped-copy'), { preserveTimestamps: true });
    await cp(s, p('stamped'), p('unstamped-copy'));
    const st = fs.statSync(p('stamped-copy'));
    // (atime: reading src may move it on the real side, relatime; a view keeps it.)
    s.note('preserved times', [st.mtimeMs, st.mode & 0o777]);
    s.note('not preserved', fs.statSync(p('unstamped-copy')).mtimeMs === 2_000_000_000);
    fs.chmodSync(p('stamped'), 0o644);
  },
  { flavours: ['sync', 'callback', 'promise'], absoluteLinks: true },
);
