/**
 * A union view's `fs` where libraries expect `fs`: unionfs stacking it over memfs, and fs-monkey's
 * patchFs driving fast-glob over the image's merged tree. Expected names come from the sample
 * image's description (scripts/sample-image.ts), not from the view.
 */
import test from 'ava';
import { patchFs } from 'fs-monkey';
import fg from 'fast-glob';
import { createFsFromVolume, Volume } from 'memfs';
import { Union } from 'unionfs';
import { openImage } from '../src/index.js';

const SAMPLE = new URL('../images/sample.tar', import.meta.url).pathname;

test('unionfs over memfs reads through the image layers and writes into the view (copy-up)', async (t) => {
  const view = await openImage(SAMPLE);
  const base = createFsFromVolume(Volume.fromJSON({ '/etc/hostname': 'memfs-host\n' }));
  const ufs = new Union().use(base as never).use(view.fs as never);
  t.is(ufs.readFileSync('/etc/motd', 'utf8'), 'Welcome to the sample image, configured.\n');
  t.is(ufs.readFileSync('/etc/hostname', 'utf8'), 'memfs-host\n');
  t.deepEqual((ufs.readdirSync('/etc') as string[]).sort(), ['app.conf', 'hostname', 'motd', 'os-release']);
  t.false(ufs.existsSync('/usr/share/doc'), 'whited out in layer 2');
  ufs.appendFileSync('/etc/motd', 'appended via unionfs\n');
  t.is(view.fs.readFileSync('/etc/motd', 'utf8'), 'Welcome to the sample image, configured.\nappended via unionfs\n');
  t.true(view.upperEntries().some((e) => e.path === 'etc/motd' && e.type === 'file'));
  view.close();
});

test('fs-monkey patchFs onto a plain object lets fast-glob walk the merged tree', async (t) => {
  const view = await openImage(SAMPLE);
  const patched: Record<string, unknown> = {};
  patchFs(view.fs as never, patched);
  const files = await fg('**/*', { cwd: '/', fs: patched as never, dot: true, onlyFiles: true });
  t.deepEqual(files.sort(), [
    'etc/app.conf',
    'etc/motd',
    'etc/os-release',
    'srv/www/assets/logo.txt',
    'srv/www/index.html',
    'usr/bin/app',
    'usr/bin/app-link',
    'usr/lib/libbig.so',
    'usr/lib/libbig.so.1',
    'var/cache/app/fresh',
  ]);
  view.close();
});
