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
