/**
 * DKR-13 / podman's change rules: what each layer changed, as `podman diff` lists it, equals the
 * fixtures' `step-N.podman-diff` (parents of a change are C; a recreated opaque directory is D
 * plus A of its new children; a metadata-only change is C). Where podman itself failed on a layer
 * (a recorded containers/storage bug), that step is skipped with a visible message.
 */
import test from 'ava';
import { openImage } from '../src/index.js';
import { formatChanges } from '../src/out/diff.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nameBytes } from '../src/archive/names.js';
import { FIXTURES, IMAGES, steps } from './helpers/fixtures.js';

/**
 * The fixture holds podman's lines sorted by path in byte order (as `LC_ALL=C sort -k2` does), so
 * a path holding a newline is split and its second half sorts first. Sort ours the same way.
 */
function sortedLines(bytes: Buffer): Buffer {
  const lines = bytes
    .toString('latin1')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Buffer.from(l, 'latin1'));
  const key = (l: Buffer) => (l.includes(0x20) ? l.subarray(l.indexOf(0x20) + 1) : Buffer.alloc(0));
  lines.sort((a, b) => Buffer.compare(key(a), key(b)) || Buffer.compare(a, b));
  return Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
}

for (const image of IMAGES) {
  test(`DKR-13 ${image}: every layer's changes equal podman's own diff`, async (t) => {
    const view = await openImage(`${FIXTURES}/${image}/oci-archive.tar`);
    try {
      let compared = 0;
      for (let i = 1; i <= steps(image); i++) {
        const expected = readFileSync(join(FIXTURES, image, 'truth', `step-${i}.podman-diff`));
        if (expected[0] === 0x23) {
          t.log(`step ${i} skipped: podman itself failed there (${expected.toString().split('\n')[1]})`);
          continue;
        }
        const want = sortedLines(expected).toString('latin1');
        t.is(sortedLines(nameBytes(formatChanges(view.layerDiff(i)))).toString('latin1'), want, `step-${i}.podman-diff`);
        compared++;
      }
      t.true(compared > 0);
    } finally {
      view.close();
    }
  });
}
