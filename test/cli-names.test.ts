/**
 * Names that are not UTF-8 (and names with a backslash, tab or newline) round-trip through the
 * command line, on the fixture image `names`: every path `ls`/`find` print is accepted back by
 * `cat` and `ls` (its bytes hash to the truth manifest); `--json` gives the raw bytes of an
 * escaped path as `pathBytes` (base64), equal to the member names GNU tar lists literally.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { layerfsHere } from './helpers/cli.js';
import { FIXTURES, truth } from './helpers/fixtures.js';

const IMG = join(FIXTURES, 'names', 'docker-archive.tar');

/** `layerfs ARGS...` in-process (helpers/cli.ts layerfsHere: the bin's command line and code). */
async function cli(...args: string[]): Promise<{ status: number; stdout: Buffer; stderr: string }> {
  const r = await layerfsHere(['--home', join(tmpdir(), 'layerfs-names-unused'), ...args]);
  return { status: r.code, stdout: r.out, stderr: r.stderr };
}

/** truth/rootfs.manifest: escaped path → sha256, for regular files. */
const hashes = new Map<string, string>(
  truth('names', 'rootfs.manifest')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t'))
    .filter((f) => f[1] === 'f')
    .map((f): [string, string] => [f[0]!, f[6]!]),
);

interface Item {
  path: string;
  pathBytes?: string;
  type: string;
}

test('CLI-names: every file path ls --json prints under /names is accepted back by cat (its bytes hash to the truth) and by ls', async (t) => {
  const items = JSON.parse((await cli('--json', 'ls', IMG, '/names')).stdout.toString()) as Item[];
  // Every escaped name, and two plain ones.
  const files = items.filter((i) => i.type === 'f' && i.path.includes('\\')).concat(items.filter((i) => i.type === 'f' && !i.path.includes('\\')).slice(0, 2));
  t.true(
    files.some((f) => f.path.includes('\\x')),
    'the image has a name that is not UTF-8',
  );
  for (const f of files) {
    const cat = await cli('cat', IMG, f.path);
    t.is(cat.status, 0, `${f.path}: ${cat.stderr}`);
    t.is(createHash('sha256').update(cat.stdout).digest('hex'), hashes.get(f.path) ?? 'missing from the truth', f.path);
    const ls = await cli('ls', IMG, f.path);
    t.is(ls.status, 0, `${f.path}: ${ls.stderr}`);
    t.is(ls.stdout.toString().trimEnd().split('\n').length, 1);
  }
  // A name typed with its own characters works too: a backslash, a tab.
  t.is((await cli('cat', IMG, '/names/back\\slash')).status, 0);
  t.is((await cli('cat', IMG, '/names/tab\tx')).status, 0);
  t.is((await cli('ls', IMG, '/names/tab\tx')).status, 0);
});

test("CLI-names: --json gives an escaped path's raw bytes as pathBytes (base64), as GNU tar lists the member literally", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-names-'));
  try {
    const layers = (JSON.parse(execFileSync('tar', ['-xOf', IMG, 'manifest.json'], { encoding: 'utf8' })) as Array<{ Layers: string[] }>)[0]!.Layers;
    const members = new Set<string>();
    for (const layer of layers) {
      execFileSync('tar', ['-xf', IMG, '-C', dir, layer]);
      const listing = execFileSync('tar', ['--quoting-style=literal', '-tf', join(dir, layer)]);
      // Literal names, one a line (a name holding a newline is split: it is not compared then).
      let start = 0;
      for (let i = 0; i <= listing.length; i++) {
        if (i === listing.length || listing[i] === 0x0a) {
          members.add(Buffer.concat([Buffer.from('/'), listing.subarray(start, i)]).toString('base64'));
          start = i + 1;
        }
      }
    }
    const items = JSON.parse((await cli('--json', 'ls', IMG, '/names')).stdout.toString()) as Item[];
    const escaped = items.filter((i) => i.path.includes('\\'));
    t.true(escaped.length >= 3);
    for (const i of escaped) {
      t.truthy(i.pathBytes, i.path);
      if (!i.path.includes('\\n')) t.true(members.has(i.pathBytes!), `${i.path}: pathBytes ${i.pathBytes} is a member name of the layer`);
    }
    t.true(
      items.filter((i) => !i.path.includes('\\')).every((i) => i.pathBytes === undefined),
      'plain UTF-8 paths have no pathBytes',
    );
    const latin1 = escaped.find((i) => i.path === '/names/latin1-\\xe9.txt')!;
    t.deepEqual([...Buffer.from(latin1.pathBytes!, 'base64')].slice(-5), [0xe9, 0x2e, 0x74, 0x78, 0x74]);
    const found = JSON.parse((await cli('--json', 'find', IMG)).stdout.toString()) as Item[];
    t.is(found.find((f) => f.path === latin1.path)?.pathBytes, latin1.pathBytes, 'find --json says the same');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
