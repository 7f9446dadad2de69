/**
 * Containers and volumes over time, in a state directory on disk (semantics.md §3). Expectations
 * come from Docker's documented rules named in each title and from the sample image's description.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Volume } from 'memfs';
import { Engine } from '../src/engine/engine.js';
import { FIXTURES, truth } from './helpers/fixtures.js';

const SAMPLE = new URL('../images/sample.tar', import.meta.url).pathname;
const SEEDED = '<h1>seeded from the image</h1>\n';

async function engine(t: { teardown(fn: () => void): void }): Promise<{ e: Engine; home: string }> {
  const home = mkdtempSync(join(tmpdir(), 'layerfs-engine-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  return { e: await Engine.open({ home }), home };
}

const code = async (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: { code?: string }) => e.code,
  );

test('DKR-9 the persistence story: volume data survives rm, layer data does not; commit keeps the layer, not the volume', async (t) => {
  const { e, home } = await engine(t);
  const c1 = await e.create(SAMPLE, { name: 'first', mounts: [{ type: 'volume', source: 'site', target: '/srv/www' }] });
  let c = await e.open(c1.id);
  t.is(c.fs.readFileSync('/srv/www/index.html', 'utf8'), SEEDED, 'DKR-2 the empty volume was seeded');
  c.fs.writeFileSync('/srv/www/visits.txt', 'volume data\n');
  c.fs.writeFileSync('/etc/layer.txt', 'layer data\n');
  await c.close();

  // restart keeps the container layer
  c = await e.open('first');
  t.is(c.fs.readFileSync('/etc/layer.txt', 'utf8'), 'layer data\n');
  await c.close();

  const committed = join(home, 'committed.tar');
  c = await e.open('first');
  await c.view.commit(committed, { tag: 'localhost/committed:v1' });
  await c.close();

  await e.rm('first');
  // a separate engine on the same state directory sees the same state
  const other = await Engine.open({ home });
  const c2 = await other.open((await other.create(SAMPLE, { mounts: [{ type: 'volume', source: 'site', target: '/srv/www' }] })).id);
  t.is(c2.fs.readFileSync('/srv/www/visits.txt', 'utf8'), 'volume data\n');
  t.false(c2.fs.existsSync('/etc/layer.txt'));
  await c2.close();

  const c3 = await other.open((await other.create(committed)).id);
  t.is(c3.fs.readFileSync('/etc/layer.txt', 'utf8'), 'layer data\n');
  t.false(c3.fs.existsSync('/srv/www/visits.txt'), 'the committed image has no volume data; its VOLUME gets a fresh volume');
  t.is(c3.fs.readFileSync('/srv/www/index.html', 'utf8'), SEEDED);
  await c3.close();
});

test('DKR-2 a volume is seeded once; volume-nocopy leaves it empty; a non-empty volume hides the image (DKR-3)', async (t) => {
  const { e } = await engine(t);
  const a = await e.open((await e.create(SAMPLE, { mounts: [{ type: 'volume', source: 'v', target: '/srv/www', noCopy: true }] })).id);
  t.deepEqual(a.fs.readdirSync('/srv/www'), []);
  a.fs.writeFileSync('/srv/www/mine', 'x');
  await a.close();
  const b = await e.open((await e.create(SAMPLE, { mounts: [{ type: 'volume', source: 'v', target: '/srv/www' }] })).id);
  t.deepEqual(b.fs.readdirSync('/srv/www'), ['mine'], 'non-empty: not seeded, image content hidden');
  await b.close();
});

test('DKR-1 DKR-7 rm -v removes anonymous volumes only; DKR-8 prune removes unused anonymous ones, all with `all`', async (t) => {
  const { e } = await engine(t);
  const c = await e.create(SAMPLE, { mounts: [{ type: 'volume', source: 'named', target: '/data' }] });
  const anon = c.mounts.find((m) => m.target === '/srv/www')!.source;
  t.true((await e.state.getVolume(anon))!.anonymous, 'the image VOLUME got an anonymous volume');
  await e.rm(c.id, { volumes: true });
  t.is(await e.state.getVolume(anon), undefined);
  t.truthy(await e.state.getVolume('named'));
  const d = await e.create(SAMPLE);
  await e.rm(d.id);
  const dangling = d.mounts[0].source;
  t.truthy(await e.state.getVolume(dangling), 'a plain rm leaves the anonymous volume dangling');
  t.deepEqual(await e.volumePrune(), [dangling]);
  t.deepEqual(await e.volumePrune({ all: true }), ['named']);
});

test('a volume in use cannot be removed without force', async (t) => {
  const { e } = await engine(t);
  await e.create(SAMPLE, { mounts: [{ type: 'volume', source: 'busy', target: '/data' }] });
  t.is(await code(e.volumeRm('busy')), 'IN_USE');
  await e.volumeRm('busy', { force: true });
  t.is(await e.state.getVolume('busy'), undefined);
});

test("two containers sharing a named volume see each other's writes at once; DKR-6 --volumes-from shares both ways", async (t) => {
  const { e } = await engine(t);
  const a = await e.open((await e.create(SAMPLE, { name: 'a', mounts: [{ type: 'volume', source: 'shared', target: '/data' }] })).id);
  const b = await e.open((await e.create(SAMPLE, { name: 'b', volumesFrom: [{ container: 'a' }] })).id);
  a.fs.writeFileSync('/data/from-a', '1');
  t.is(b.fs.readFileSync('/data/from-a', 'utf8'), '1');
  b.fs.writeFileSync('/srv/www/from-b', '2');
  t.is(a.fs.readFileSync('/srv/www/from-b', 'utf8'), '2', 'the anonymous VOLUME of a is shared too');
  const ro = await e.open((await e.create(SAMPLE, { volumesFrom: [{ container: 'a', mode: 'ro' }] })).id);
  t.throws(() => ro.fs.writeFileSync('/data/x', 'x'), { code: 'EROFS' });
  await Promise.all([a.close(), b.close(), ro.close()]);
});

test('DKR-11 --read-only: EROFS everywhere but the mounts; DKR-10 tmpfs content is gone when the container stops', async (t) => {
  const { e } = await engine(t);
  const rec = await e.create(SAMPLE, { readOnly: true, mounts: [{ type: 'tmpfs', target: '/run' }] });
  let c = await e.open(rec.id);
  t.throws(() => c.fs.writeFileSync('/etc/motd', 'x'), { code: 'EROFS' });
  c.fs.writeFileSync('/run/pid', '42');
  c.fs.writeFileSync('/srv/www/ok', 'volumes stay writable');
  await c.close();
  c = await e.open(rec.id);
  t.false(c.fs.existsSync('/run/pid'));
  t.is(c.fs.readFileSync('/srv/www/ok', 'utf8'), 'volumes stay writable');
  await c.close();
});

test('bind mounts: the host sees writes at once, image content is never copied in, :ro is honoured (DKR-3, DKR-5)', async (t) => {
  const { e, home } = await engine(t);
  const host = join(home, 'host-dir');
  mkdirSync(host);
  writeFileSync(join(host, 'h.txt'), 'host file');
  const c = await e.open(
    (
      await e.create(SAMPLE, {
        mounts: [
          { type: 'bind', source: host, target: '/srv/www' },
          { type: 'bind', source: host, target: '/ro', readOnly: true },
        ],
      })
    ).id,
  );
  t.deepEqual(c.fs.readdirSync('/srv/www'), ['h.txt']);
  c.fs.writeFileSync('/srv/www/new.txt', 'from the container');
  t.is(readFileSync(join(host, 'new.txt'), 'utf8'), 'from the container');
  t.throws(() => c.fs.writeFileSync('/ro/x', 'x'), { code: 'EROFS' });
  await c.close();
});

test('a mount point missing from the image is made in the container layer and shows in diff as added', async (t) => {
  const { e } = await engine(t);
  const c = await e.open((await e.create(SAMPLE, { mounts: [{ type: 'volume', source: 'v', target: '/opt/data' }] })).id);
  t.deepEqual(
    c.view.diff().map((x) => `${x.kind} ${x.path}`),
    ['A /opt', 'A /opt/data'],
  );
  const st = c.fs.statSync('/opt/data');
  t.is(st.mode & 0o7777, 0o755);
  await c.close();
});

test('a volume over a file of the image fails at create with "not a directory"', async (t) => {
  const { e } = await engine(t);
  await t.throwsAsync(e.create(SAMPLE, { mounts: [{ type: 'volume', source: 'v', target: '/etc/motd' }] }), { message: /not a directory/ });
});

test('DKR-4 -v creates a missing host directory; --mount type=bind refuses it', async (t) => {
  const { e, home } = await engine(t);
  const missing = join(home, 'made-by-v');
  await t.throwsAsync(e.create(SAMPLE, { mounts: [{ type: 'bind', source: missing, target: '/data' }] }), { message: /bind source path does not exist/ });
  await e.create(SAMPLE, { mounts: [{ type: 'bind', source: missing, target: '/data', createSource: true }] });
  t.deepEqual(readdirSync(missing), []);
});

test('a bind mount of a single host file: reads and writes reach the file, nothing can be below it', async (t) => {
  const { e, home } = await engine(t);
  const conf = join(home, 'app.conf');
  writeFileSync(conf, 'port=1\n');
  const c = await e.open((await e.create(SAMPLE, { mounts: [{ type: 'bind', source: conf, target: '/etc/app.conf' }] })).id);
  t.is(c.fs.readFileSync('/etc/app.conf', 'utf8'), 'port=1\n');
  c.fs.appendFileSync('/etc/app.conf', 'host=x\n');
  t.is(readFileSync(conf, 'utf8'), 'port=1\nhost=x\n');
  t.throws(() => c.fs.readFileSync('/etc/app.conf/x'), { code: 'ENOTDIR' });
  t.throws(() => c.fs.unlinkSync('/etc/app.conf'), { code: 'EBUSY' });
  await c.close();
});

test('nested volumes are each seeded from their own image subpath', async (t) => {
  const { e } = await engine(t);
  const c = await e.open(
    (
      await e.create(SAMPLE, {
        mounts: [
          { type: 'volume', source: 'outer', target: '/srv/www' },
          { type: 'volume', source: 'inner', target: '/srv/www/assets' },
        ],
      })
    ).id,
  );
  t.deepEqual(c.fs.readdirSync('/srv/www/assets'), ['logo.txt']);
  t.deepEqual(readdirSync(e.state.volumeData('inner')), ['logo.txt']);
  c.fs.writeFileSync('/srv/www/assets/new', 'n');
  t.false(existsSync(join(e.state.volumeData('outer'), 'assets', 'new')), 'the inner volume takes the write');
  await c.close();
});

test('DKR-13 diff leaves out volume, bind and tmpfs content; DKR-14 export writes what lies under the volume', async (t) => {
  const { e, home } = await engine(t);
  const c = await e.open((await e.create(SAMPLE, { mounts: [{ type: 'tmpfs', target: '/tmp' }] })).id);
  c.fs.writeFileSync('/srv/www/index.html', 'changed in the volume');
  c.fs.writeFileSync('/tmp/scratch', 'tmpfs');
  c.fs.writeFileSync('/etc/motd', 'changed in the layer');
  t.deepEqual(
    c.view.diff().map((x) => `${x.kind} ${x.path}`),
    ['C /etc/motd'],
  );
  const out = join(home, 'export.tar');
  await c.view.export(out);
  const listing = execFileSync('tar', ['-xOf', out, 'srv/www/index.html'], { encoding: 'utf8' });
  t.is(listing, SEEDED, 'the image content under the volume, not the volume');
  await c.close();
});

test('DKR-3 a bind mount of a memfs tree: the tree sees writes at once and gets no image content', async (t) => {
  const { e } = await engine(t);
  const tree = Volume.fromJSON({ '/notes.txt': 'in memory' });
  const c = await e.open((await e.create(SAMPLE, { trees: { notes: tree }, mounts: [{ type: 'bind', source: 'memfs:notes', target: '/srv/www' }] })).id, { trees: { notes: tree } });
  t.deepEqual(c.fs.readdirSync('/srv/www'), ['notes.txt']);
  c.fs.writeFileSync('/srv/www/new', 'from the container');
  t.is(tree.readFileSync('/new', 'utf8'), 'from the container');
  await c.close();
  await t.throwsAsync(e.open(c.id), { message: /memfs:notes/ });
});

test('DKR-2 a read-only mount of a fresh volume still gets the copy; DKR-6 an explicit mount wins over --volumes-from', async (t) => {
  const { e } = await engine(t);
  const a = await e.create(SAMPLE, { name: 'src', mounts: [{ type: 'volume', source: 'ro-seeded', target: '/srv/www', readOnly: true }] });
  (await e.open(a.id)).dispose(); // the copy is made at the first start (DKR-17)
  t.deepEqual(readdirSync(e.state.volumeData('ro-seeded')).sort(), ['assets', 'index.html']);
  const b = await e.create(SAMPLE, { volumesFrom: [{ container: a.id }], mounts: [{ type: 'volume', source: 'mine', target: '/srv/www' }] });
  t.deepEqual(
    b.mounts.filter((m) => m.target === '/srv/www').map((m) => m.source),
    ['mine'],
  );
});

test('volume ls and inspect; `where` tells which layer, volume or mount serves a path', async (t) => {
  const { e } = await engine(t);
  const rec = await e.create(SAMPLE, {
    name: 'w',
    mounts: [
      { type: 'volume', source: 'site', target: '/srv/www' },
      { type: 'tmpfs', target: '/run' },
    ],
  });
  t.deepEqual(
    (await e.volumes()).map((v) => v.name),
    ['site'],
  );
  const info = await e.volumeInspect('site');
  t.deepEqual(info.usedBy, ['w']);
  t.is(info.mountpoint, e.state.volumeData('site'));
  const c = await e.open(rec.id);
  t.like(c.where('/srv/www/index.html'), { kind: 'volume', source: 'site', path: '/index.html' });
  t.like(c.where('/run/x'), { kind: 'tmpfs', path: '/x' });
  t.like(c.where('/etc/motd'), { kind: 'layer', path: '/etc/motd' });
  await c.close();
});

test('DKR-2 volume-nocopy leaves the copy to the next mount without it; DKR-6 inherited mounts keep their mode', async (t) => {
  const { e } = await engine(t);
  const a = await e.create(SAMPLE, { name: 'nocopy', mounts: [{ type: 'volume', source: 'later', target: '/srv/www', noCopy: true, readOnly: true }] });
  (await e.open(a.id)).dispose(); // mounts are made at the start (DKR-17)
  t.deepEqual(readdirSync(e.state.volumeData('later')), []);
  (await e.open((await e.create(SAMPLE, { mounts: [{ type: 'volume', source: 'later', target: '/srv/www' }] })).id)).dispose();
  t.deepEqual(readdirSync(e.state.volumeData('later')).sort(), ['assets', 'index.html']);
  const inherited = await e.create(SAMPLE, { volumesFrom: [{ container: a.id }] });
  t.true(inherited.mounts.find((m) => m.target === '/srv/www')!.readOnly, 'the read-only mount stays read-only');
  const rw = await e.create(SAMPLE, { volumesFrom: [{ container: a.id, mode: 'rw' }] });
  t.false(rw.mounts.find((m) => m.target === '/srv/www')!.readOnly);
});

test('a volume over a symlink of the image fails at create with "not a directory"', async (t) => {
  const { e } = await engine(t);
  await t.throwsAsync(e.create(SAMPLE, { mounts: [{ type: 'volume', source: 'v', target: '/usr/lib/libbig.so.1' }] }), { message: /not a directory/ });
});

test("an OCI layout directory (skopeo copy … oci:DIR) is stored as its OCI archive and runs: the container shows podman's rootfs", async (t) => {
  const { e, home } = await engine(t);
  const dir = join(home, '..', `${home.split('/').pop()}-layout`);
  mkdirSync(dir);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('tar', ['-xf', join(FIXTURES, 'layers/oci-archive.tar'), '-C', dir]);
  const rec = await e.load(dir);
  t.is(rec.format, 'oci-archive');
  t.is((await e.load(dir)).id, rec.id, 'loading it again finds the stored image');
  rmSync(dir, { recursive: true, force: true }); // the state keeps its own copy
  const c = await e.open((await e.create(rec.id)).id);
  t.is(c.view.manifest(), truth('layers', 'rootfs.manifest'));
  await c.close();
  // Anything but directories and regular files in a layout is refused, never followed.
  mkdirSync(dir);
  execFileSync('tar', ['-xf', join(FIXTURES, 'layers/oci-archive.tar'), '-C', dir]);
  execFileSync('ln', ['-s', '/etc/passwd', join(dir, 'blobs', 'stray')]);
  t.is(await code(e.state.putImage({ ...rec, id: 'f'.repeat(64), tags: [] }, dir)), 'BAD_INPUT');
});

test('DA-1 an image loaded by tag from a multi-image archive opens again by its own tag: create, the explore commands, two images of one archive (umoci truth/step-N.manifest)', async (t) => {
  const { e, home } = await engine(t);
  const multi = join(FIXTURES, 'umoci/oci-layout-multi.tar');
  const step2 = await e.load(multi, { tag: 'step2' });
  const step3 = await e.load(multi, { tag: 'step3' });
  t.not(step2.id, step3.id);
  for (const [tag, step] of [
    ['localhost/step2:latest', 2],
    ['localhost/step3:latest', 3],
  ] as const) {
    const rec = await e.create(tag, { name: `from-step${step}` });
    const c = await e.open(rec.id);
    try {
      t.is(c.view.manifest(), truth('umoci', `step-${step}.manifest`), `${tag}: the tree umoci unpacks for step ${step}`);
    } finally {
      await c.close();
    }
  }
  // The command line opens it by its state tag too (before: "the archive holds 5 images and no tag was given").
  const bin = new URL('../bin/layerfs.js', import.meta.url).pathname;
  const names = execFileSync(process.execPath, [bin, '--home', home, 'ls', 'localhost/step2:latest', '/'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(/\s+/).at(-1));
  const top = truth('umoci', 'step-2.manifest')
    .split('\n')
    .filter((l) => /^\/[^/\t]+\t/.test(l))
    .map((l) => l.split('\t')[0]!.slice(1));
  t.deepEqual(names, top);
});
