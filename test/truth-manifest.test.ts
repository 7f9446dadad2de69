/**
 * OCI-1 and every whiteout/opaque/hard-link rule at once: for every reference image in every
 * archive format, the flattened view equals podman's `truth/rootfs.manifest`, and the view after
 * the first N layers equals `truth/step-N.manifest`. All of them, not a sample.
 */
import test from 'ava';
import { openImage } from '../src/index.js';
import { archives, steps, truth } from './helpers/fixtures.js';

for (const a of archives()) {
  test(`OCI-1 ${a.label}: flattened view and every step equal podman's manifests`, async (t) => {
    const view = await openImage(a.path, { tag: a.tag });
    try {
      t.is(view.manifest(), truth(a.image, 'rootfs.manifest'), 'rootfs.manifest');
      const n = steps(a.image);
      t.is(view.layerCount, n);
      for (let i = 1; i <= n; i++) t.is(view.atLayer(i).manifest(), truth(a.image, `step-${i}.manifest`), `step-${i}.manifest`);
    } finally {
      view.close();
    }
  });
}
