/** images/sample.tar is what scripts/sample-image.ts describes: rebuilding it gives the same bytes. */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSample } from '../scripts/sample-image.js';

test('the bundled sample image rebuilds byte for byte from its description', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-sample-'));
  try {
    await buildSample(join(dir, 'sample.tar'));
    t.true(readFileSync(join(dir, 'sample.tar')).equals(readFileSync(new URL('../images/sample.tar', import.meta.url))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
