/**
 * `layerfs diff` takes a container (docker diff) or two images (the issue's `diff IMAGE_A
 * IMAGE_B`): with two images it prints exactly what `diff-images` prints, which
 * test/cli-explore.test.ts checks against the fixtures' changes.py. `export` takes an image or a
 * container.
 */
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  t.true(JSON.parse(viaDiffImages.stdout).some((c: { kind: string }) => c.kind === 'A'));
});

test('DKR-14 export CONTAINER writes its layer over the image, and what lies under a volume, not the volume', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'layerfs-cli-export-'));
  try {
    const sample = fileURLToPath(new URL('../images/sample.tar', import.meta.url));
    await run(['--home', home, 'run', '--name', 'x', '-c', 'echo mine > /etc/motd; echo volume > /srv/www/index.html', sample]);
    const out = join(home, 'x.tar');
    await run(['--home', home, 'export', 'x', '-o', out]);
    const file = (p: string) => execFileSync('tar', ['-xOf', out, p], { encoding: 'utf8' });
    t.is(file('etc/motd'), 'mine\n');
    t.is(file('srv/www/index.html'), '<h1>seeded from the image</h1>\n');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
