/**
 * The mount table: paths cross mount points by longest prefix, symlinks resolve from the
 * container's root even when they live in a mount, renames and links across mounts are EXDEV,
 * mount points are EBUSY, read-only mounts EROFS. Mounts here are memfs trees (tmpfs-like); the
 * root is a union view of a real layer tar.
 */
import test from 'ava';
import { Volume } from 'memfs';
import { createFs } from '../src/fs/node-fs.js';
import { openLayers } from '../src/index.js';
import { MemfsCore } from '../src/mounts/memfs-core.js';
import { MountCore } from '../src/mounts/router.js';
import { MountTable, type Mount } from '../src/mounts/table.js';
import { tarOf } from './helpers/tar.js';

const dir = (name: string) => ({ header: { name, type: 'directory', mode: 0o755 } });
const file = (name: string, body: string) => ({ header: { name, type: 'file', mode: 0o644 }, body });
const link = (name: string, linkname: string) => ({ header: { name, type: 'symlink', linkname } });

async function container(mounts: Array<Omit<Mount, 'core' | 'kind'> & { files?: Record<string, string> }>) {
  const view = await openLayers([
    await tarOf([
      dir('etc'),
      file('etc/passwd', 'root:x:0:0\n'),
      dir('data'),
      file('data/under', 'image content under the mount\n'),
      dir('data/inner'),
      dir('ro'),
      link('up', '../../..'),
      link('rootlink', '/'),
    ]),
  ]);
  const table = new MountTable(
    { target: '/', core: view.core, readOnly: false, kind: 'layer' },
    mounts.map((m) => ({ ...m, kind: 'tmpfs' as const, core: new MemfsCore(Volume.fromJSON(m.files ?? {}, '/')) })),
  );
  return { view, fs: createFs(new MountCore(table)) };
}

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

test('paths cross mount points by longest prefix; the mount hides what the image has there (DKR-3)', async (t) => {
  const { view, fs } = await container([
    { target: '/data', readOnly: false, files: { '/a.txt': 'outer mount' } },
    { target: '/data/inner', readOnly: false, files: { '/b.txt': 'inner mount' } },
  ]);
  t.is(fs.readFileSync('/data/a.txt', 'utf8'), 'outer mount');
  t.is(fs.readFileSync('/data/inner/b.txt', 'utf8'), 'inner mount');
  t.false(fs.existsSync('/data/under'), 'image content is obscured by the mount');
  fs.writeFileSync('/data/new.txt', 'x');
  t.deepEqual(view.upperEntries(), [], 'writes into a mount never reach the container layer');
  view.close();
});

test('symlinks and .. resolve inside the container root, also from inside a mount', async (t) => {
  const { view, fs } = await container([{ target: '/data', readOnly: false, files: { '/x': '' } }]);
  fs.symlinkSync('/etc/passwd', '/data/abs');
  fs.symlinkSync('../../../../etc/passwd', '/data/rel');
  t.is(fs.readFileSync('/data/abs', 'utf8'), 'root:x:0:0\n');
  t.is(fs.readFileSync('/data/rel', 'utf8'), 'root:x:0:0\n');
  t.is(fs.readFileSync('/up/rootlink/etc/passwd', 'utf8'), 'root:x:0:0\n');
  t.is(fs.realpathSync('/data/rel'), '/etc/passwd');
  t.is(fs.readFileSync('/rootlink/data/x', 'utf8'), '', 'a symlink into a mount lands in the mount');
  view.close();
});

test('rename and link across mounts are EXDEV; mount points are EBUSY', async (t) => {
  const { view, fs } = await container([{ target: '/data', readOnly: false, files: { '/x': 'x' } }]);
  t.is(
    code(() => fs.renameSync('/data/x', '/etc/x')),
    'EXDEV',
  );
  t.is(
    code(() => fs.renameSync('/etc/passwd', '/data/passwd')),
    'EXDEV',
  );
  t.is(
    code(() => fs.linkSync('/etc/passwd', '/data/passwd')),
    'EXDEV',
  );
  t.is(
    code(() => fs.rmdirSync('/data')),
    'EBUSY',
  );
  t.is(
    code(() => fs.renameSync('/data', '/data2')),
    'EBUSY',
  );
  fs.renameSync('/data/x', '/data/y');
  t.is(fs.readFileSync('/data/y', 'utf8'), 'x');
  view.close();
});

test('DKR-5 a read-only mount refuses changes with EROFS and still reads', async (t) => {
  const { view, fs } = await container([{ target: '/ro', readOnly: true, files: { '/f': 'ro data' } }]);
  t.is(fs.readFileSync('/ro/f', 'utf8'), 'ro data');
  t.is(
    code(() => fs.writeFileSync('/ro/f', 'x')),
    'EROFS',
  );
  t.is(
    code(() => fs.writeFileSync('/ro/new', 'x')),
    'EROFS',
  );
  t.is(
    code(() => fs.unlinkSync('/ro/f')),
    'EROFS',
  );
  t.is(
    code(() => fs.mkdirSync('/ro/f')),
    'EEXIST',
  );
  t.is(
    code(() => fs.chmodSync('/ro/missing', 0o600)),
    'ENOENT',
  );
  fs.writeFileSync('/etc/motd', 'the root is still writable');
  view.close();
});

test('the symlink hop limit across mounts is configurable (ELOOP past it)', async (t) => {
  const view = await openLayers([await tarOf([file('t', 'end'), link('a', 't'), link('b', 'a'), link('c', 'b')])]);
  const make = (maxSymlinkHops: number) => createFs(new MountCore(new MountTable({ target: '/', core: view.core, readOnly: false, kind: 'layer' }, [], { maxSymlinkHops })));
  t.is(make(3).readFileSync('/c', 'utf8'), 'end');
  t.is(
    code(() => make(2).readFileSync('/c')),
    'ELOOP',
  );
  view.close();
});
