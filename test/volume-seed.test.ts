/**
 * DKR-2: an empty volume mounted over an image directory gets a copy of that directory: files,
 * modes, owners, symlinks, nested directories, and the image directory's own mode and owner on the
 * volume's root. Ground truth: podman's flattened manifest of the `volumes` fixture image, whose
 * VOLUME /srv/www and /cache hold content.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImage } from '../src/index.js';
import { copyTree } from '../src/mounts/copy-tree.js';
import { HostCore } from '../src/mounts/host-core.js';
import { FIXTURES, truth } from './helpers/fixtures.js';
import { manifestOf } from './helpers/tools.js';

/** The lines of a manifest below `prefix`, re-rooted there (the prefix's own line dropped). */
function subtree(manifest: string, prefix: string): string {
  const [header, ...lines] = manifest.split('\n');
  const below = lines.filter((l) => l.startsWith(prefix + '/')).map((l) => l.slice(prefix.length));
  return [header, ...below].join('\n') + '\n';
}

for (const path of ['/srv/www', '/cache']) {
  test(`DKR-2 a volume seeded from the image's ${path} holds exactly what podman shows there`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'layerfs-seed-'));
    const view = await openImage(join(FIXTURES, 'volumes/oci-archive.tar'));
    const volume = new HostCore(dir);
    try {
      copyTree(view.core, path, volume, '/');
      t.is(await manifestOf(dir), subtree(truth('volumes', 'rootfs.manifest'), path));
      const rootLine = truth('volumes', 'rootfs.manifest')
        .split('\n')
        .find((l) => l.startsWith(path + '\t'))!
        .split('\t');
      const st = volume.stat('/', true);
      t.is((st.mode & 0o7777).toString(8).padStart(4, '0'), rootLine[2]);
      t.is(`${st.uid}:${st.gid}`, `${rootLine[3]}:${rootLine[4]}`);
    } finally {
      volume.closeAll();
      view.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
