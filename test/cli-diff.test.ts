/**
 * `layerfs diff` takes a container (docker diff) or two images (the issue's `diff IMAGE_A
 * IMAGE_B`): with two images its added, removed and changed paths are what the fixtures' own
 * changes.py finds between the two images' truth/rootfs.manifest (made by podman image mount).
 * `export` takes an image or a container.
 */
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { FIXTURE_TOOLS, FIXTURES } from './helpers/fixtures.js';

const BIN = fileURLToPath(new URL('../bin/layerfs.js', import.meta.url));
const run = (args: string[]) => promisify(execFile)('node', [BIN, ...args], { encoding: 'utf8' });

for (const [a, b] of [
  ['layers', 'volumes'],
  ['whiteouts', 'names'],
] as const) {
  test(`diff IMAGE_A IMAGE_B (${a} → ${b}): A/D/M lines equal changes.py over the two truth manifests`, async (t) => {
    const truth = (image: string) => join(FIXTURES, image, 'truth/rootfs.manifest');
    const want = execFileSync('python3', [join(FIXTURE_TOOLS, 'changes.py'), truth(a), truth(b)], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l !== '');
    // Like diff(1), a difference is exit status 1: the output is what counts.
    const r = await run(['diff', '--json', join(FIXTURES, a, 'oci-archive.tar'), join(FIXTURES, b, 'oci-archive-gzip.tar')]).catch((e) => e);
    const out = JSON.parse(r.stdout);
    // The one diff shape (docs/json.md) in podman's words: C is changes.py's M.
    const got = out.map((x: { kind: string; path: string; fields?: string[] }) => (x.kind === 'C' ? `M ${x.path} ${x.fields!.join(',')}` : `${x.kind} ${x.path}`));
    t.true(want.length > 10, 'precondition: the two images differ');
    t.deepEqual([...got].sort(), [...want].sort());
  });
}

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
