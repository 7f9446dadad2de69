/**
 * `layerfs diff` takes a container (docker diff) or two images (the issue's `diff IMAGE_A
 * IMAGE_B`): with two images it prints exactly what `diff-images` prints, which
 * test/cli-explore.test.ts checks against the fixtures' changes.py.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { FIXTURES } from './helpers/fixtures.js';

const BIN = fileURLToPath(new URL('../bin/layerfs.js', import.meta.url));
const run = (args: string[]) => promisify(execFile)('node', [BIN, ...args], { encoding: 'utf8' });

test('diff IMAGE_A IMAGE_B is diff-images', async (t) => {
  const a = join(FIXTURES, 'layers/oci-archive.tar');
  const b = join(FIXTURES, 'volumes/oci-archive.tar');
  const viaDiff = await run(['diff', '--json', a, b]).catch((e) => e);
  const viaDiffImages = await run(['--json', 'diff-images', a, b]);
  t.is(viaDiff.stdout, viaDiffImages.stdout);
  t.true(JSON.parse(viaDiffImages.stdout).added.length > 0);
});
