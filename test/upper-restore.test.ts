/**
 * A writable layer saved as a tar (the form a container's layer is kept in) and opened again over
 * the same image gives the same merged tree, keeps whiteouts, opaque directories and hard links,
 * and stays writable: what `restart` needs. The expected tree is the first view's own manifest.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImage } from '../src/index.js';
import { loadLayers } from '../src/image/index.js';
import { writeTar } from '../src/out/tar-write.js';

const SAMPLE = new URL('../images/sample.tar', import.meta.url).pathname;

test('a saved writable layer reopens to the same tree and stays writable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-upper-'));
  try {
    const first = await openImage(SAMPLE);
    const fs = first.fs;
    fs.appendFileSync('/etc/motd', 'changed\n');
    fs.rmSync('/usr/bin/app');
    fs.rmSync('/var/cache', { recursive: true });
    fs.mkdirSync('/var/cache');
    fs.writeFileSync('/var/cache/new', 'n');
    fs.linkSync('/etc/motd', '/etc/motd.link');
    fs.symlinkSync('/etc/motd', '/motd');
    const fd = fs.openSync('/usr/lib/libbig.so', 'r+');
    fs.writeSync(fd, 'XYZ', 4096);
    fs.closeSync(fd);
    const saved = join(dir, 'layer.tar');
    await writeTar(first.upperEntries(), saved);
    const layer = await loadLayers([saved]);
    const second = await openImage(SAMPLE, { upper: layer.layers[0].entries });
    t.is(second.manifest(), first.manifest());
    t.deepEqual(second.diff(), first.diff());
    second.fs.appendFileSync('/etc/motd.link', 'again\n');
    t.is(second.fs.readFileSync('/etc/motd', 'utf8'), 'Welcome to the sample image, configured.\nchanged\nagain\n');
    t.is(second.fs.statSync('/etc/motd').nlink, 2);
    first.close();
    second.close();
    layer.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
