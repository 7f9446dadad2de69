/**
 * Buffer paths and `encoding: 'buffer'` are byte-exact, as with Node's fs on Linux: a name that is
 * not UTF-8 comes back as its raw bytes, and those bytes open the same file. Ground truth: the host
 * directory GNU tar packed into the layer (test/helpers/tools.ts), read through Node's own fs.
 */
import test from 'ava';
import * as nodeFs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLayers } from '../src/index.js';
import { gnuTarLayer } from './helpers/tools.js';

const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts.flatMap((p, i) => (i ? [Buffer.from('/'), p] : [p])));
const sorted = (names: Buffer[]): string[] => names.map((n) => n.toString('hex')).sort();

test('readdir with encoding buffer gives the raw bytes of every name, and Buffer paths made of them stat, read and readlink like the host', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'layerfs-bufpath-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const { layer, src } = await gnuTarLayer(work);
  const view = await openLayers([layer]);
  t.teardown(() => view.close());
  const fs = view.fs;
  let nonUtf8 = 0;
  const walk = (rel: Buffer): void => {
    const host = nodeFs.readdirSync(cat(Buffer.from(src), rel), { encoding: 'buffer' });
    const ours = fs.readdirSync(cat(Buffer.from(''), rel), { encoding: 'buffer' }) as Buffer[];
    t.deepEqual(sorted(ours), sorted(host), `names in /${rel.toString('latin1')}`);
    for (const name of host) {
      if (!Buffer.from(name.toString('utf8')).equals(name)) nonUtf8++;
      const hp = cat(Buffer.from(src), rel, name);
      const vp = cat(Buffer.from(''), rel, name);
      const hs = nodeFs.lstatSync(hp);
      const vs = fs.lstatSync(vp);
      t.is(vs.mode, hs.mode, `mode of ${hp.toString('latin1')}`);
      t.is(vs.size, hs.size, `size of ${hp.toString('latin1')}`);
      if (hs.isFile() && hs.mode & 0o444) t.true(fs.readFileSync(vp).equals(nodeFs.readFileSync(hp)), `content of ${hp.toString('latin1')}`);
      if (hs.isSymbolicLink()) t.true((fs.readlinkSync(vp, { encoding: 'buffer' }) as Buffer).equals(nodeFs.readlinkSync(hp, { encoding: 'buffer' })), 'link target bytes');
      if (hs.isDirectory()) walk(rel.length ? cat(rel, name) : name);
    }
  };
  walk(Buffer.alloc(0));
  t.true(nonUtf8 >= 1, 'the tree has names that are not UTF-8');
  // A name written through a Buffer path lands under exactly those bytes (the writable layer too).
  const raw = Buffer.from([0x2f, 0x6e, 0x65, 0x77, 0x2d, 0xff, 0xfe]); // "/new-\xff\xfe"
  fs.writeFileSync(raw, 'bytes');
  t.true((fs.readdirSync('/', { encoding: 'buffer' }) as Buffer[]).some((n) => n.equals(raw.subarray(1))));
  t.is(fs.readFileSync(raw, 'utf8'), 'bytes');
});
