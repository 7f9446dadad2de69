/**
 * OVL-21: layers are never modified. Every kind of change through the view, on every copy-up
 * strategy, leaves the image archive's bytes as they were (sha256 before and after).
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImage } from '../src/index.js';

const SAMPLE = new URL('../images/sample.tar', import.meta.url).pathname;
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

for (const copyUp of ['full', 'metadata', 'chunked'] as const) {
  test(`OVL-21 writes through a ${copyUp} view never change the image archive`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'layerfs-frozen-'));
    try {
      const image = join(dir, 'image.tar');
      copyFileSync(SAMPLE, image);
      const before = sha(image);
      const view = await openImage(image, { copyUp });
      const fs = view.fs;
      const fd = fs.openSync('/usr/lib/libbig.so', 'r+');
      fs.writeSync(fd, Buffer.alloc(70_000, 7), 0, 70_000, 1000);
      fs.ftruncateSync(fd, 4096);
      fs.closeSync(fd);
      fs.chmodSync('/usr/bin/app', 0o700);
      fs.appendFileSync('/usr/bin/app-link', 'echo more\n');
      fs.truncateSync('/etc/motd', 3);
      fs.rmSync('/var/cache', { recursive: true });
      fs.renameSync('/etc/os-release', '/etc/os-release.bak');
      fs.writeFileSync('/srv/www/index.html', 'replaced');
      view.close();
      t.is(sha(image), before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
