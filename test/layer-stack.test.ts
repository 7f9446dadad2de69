/**
 * Stacking layers read from real tars (built with tar-stream): hard links across layers and
 * hard links to nothing. Expectations come from OCI-11 and the layer's own bytes.
 */
import test from 'ava';
import { ArchiveError } from '../src/core/errors.js';
import { loadLayers } from '../src/image/index.js';
import { buildLayer, findPlain } from '../src/layer/build.js';
import { flatten } from '../src/layer/flatten.js';
import { readAll } from '../src/source.js';
import { tarOf } from './helpers/tar.js';

const dir = (name: string) => ({ header: { name, type: 'directory', mode: 0o755 } });
const file = (name: string, body: string) => ({ header: { name, type: 'file', mode: 0o644 }, body });
const link = (name: string, linkname: string) => ({ header: { name, type: 'link', linkname } });

async function stack(layers: Buffer[]) {
  const image = await loadLayers(layers);
  const trees = image.layers.map((l, i) => buildLayer(l.entries, i, `layer${i + 1}.tar`));
  return { image, root: () => flatten(trees) };
}

test('OCI-11 a hard link may name a file that lives in a lower layer: both names share it', async (t) => {
  const { image, root } = await stack([await tarOf([dir('etc'), file('etc/base.conf', 'from layer 1\n')]), await tarOf([dir('etc'), link('etc/alias.conf', 'etc/base.conf')])]);
  const r = root();
  const a = findPlain(r, 'etc/base.conf')!;
  const b = findPlain(r, 'etc/alias.conf')!;
  t.is(a, b);
  t.is(readAll(b.data!).toString(), 'from layer 1\n');
  image.close();
});

test('OCI-11 a hard link to a path that exists in no layer is BAD_LINK naming the layer', async (t) => {
  const { image, root } = await stack([await tarOf([dir('etc'), link('etc/alias.conf', 'etc/missing.conf')])]);
  const err = t.throws(root, { instanceOf: ArchiveError });
  t.is(err?.code, 'BAD_LINK');
  t.regex(err!.message, /layer1\.tar.*layer 1.*etc\/missing\.conf/);
  image.close();
});

test('OCI-11 a hard link to a directory is BAD_LINK', async (t) => {
  const image = await loadLayers([await tarOf([dir('etc'), link('etc/d', 'etc')])]);
  const err = t.throws(() => buildLayer(image.layers[0].entries, 0, 'layer1.tar'), { instanceOf: ArchiveError });
  t.is(err?.code, 'BAD_LINK');
  t.regex(err!.message, /layer1\.tar.*directory/);
  image.close();
});

/** Every name under `d` as path:kind (w = whiteout), sorted: what a tree holds, whiteouts included. */
function names(d: import('../src/layer/inode.js').Inode, prefix = ''): string[] {
  const out: string[] = [];
  for (const [name, c] of d.children!) {
    const p = `${prefix}${name}`;
    if (typeof c === 'symbol') out.push(`${p}:w`);
    else {
      out.push(`${p}:${c.type}`);
      if (c.isDir) out.push(...names(c, `${p}/`));
    }
  }
  return out.sort();
}

test('OVL-1/OCI-5 flattening never changes the layers: a lower directory a higher layer changes is copied, one nobody changes is shown as it is', async (t) => {
  const l1 = await tarOf([dir('usr'), dir('usr/bin'), file('usr/bin/a', 'a'), file('usr/keep', 'k'), file('usr/.wh.ghost', ''), dir('opt'), file('opt/x', 'x')]);
  const l2 = await tarOf([dir('usr'), dir('usr/bin'), file('usr/bin/b', 'b'), file('usr/.wh.keep', '')]);
  const image = await loadLayers([l1, l2]);
  t.teardown(() => image.close());
  const trees = image.layers.map((l, i) => buildLayer(l.entries, i, `layer${i + 1}.tar`));
  const before = trees.map((tr) => names(tr.root));
  t.deepEqual(before[0], ['opt/x:file', 'opt:dir', 'usr/bin/a:file', 'usr/bin:dir', 'usr/ghost:w', 'usr/keep:file', 'usr:dir']);

  const both = flatten(trees);
  // The bottom layer's whiteout hides nothing and is not shown; layer 2 adds b and deletes keep.
  t.deepEqual(names(both), ['opt/x:file', 'opt:dir', 'usr/bin/a:file', 'usr/bin/b:file', 'usr/bin:dir', 'usr:dir']);
  const bottom = flatten(trees.slice(0, 1));
  t.deepEqual(names(bottom), ['opt/x:file', 'opt:dir', 'usr/bin/a:file', 'usr/bin:dir', 'usr/keep:file', 'usr:dir']);
  // The layers' own trees are as they were, so the same stack flattens the same way again.
  t.deepEqual(
    trees.map((tr) => names(tr.root)),
    before,
  );
  t.deepEqual(names(flatten(trees)), names(both));
  // A directory no layer above changes is the layer's own object (nothing copied): opt.
  t.is(both.children!.get('opt'), trees[0].root.children!.get('opt'));
  t.not(both.children!.get('usr'), trees[0].root.children!.get('usr'));
});
