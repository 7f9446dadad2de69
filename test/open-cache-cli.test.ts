/**
 * CLI and the open cache: commands open images through `<home>/cache`, so `inspect` then `ls` of one
 * archive file pays once (the second command writes nothing to the cache: every file of it keeps
 * its inode), and `system df` / `system prune` show and drop what it holds (--json).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, steps, truth } from './helpers/fixtures.js';

const BIN = fileURLToPath(new URL('../bin/layerfs.js', import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', [BIN, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`layerfs ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Every file of the cache: name → inode and size (a rebuilt file is a new inode: files are renamed into place). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const sub of ['layers', 'locations']) {
    for (const name of readdirSync(join(dir, sub))) {
      const st = statSync(join(dir, sub, name));
      out[`${sub}/${name}`] = `${st.ino}:${st.size}`;
    }
  }
  return out;
}

const ARCHIVE = join(FIXTURES, 'layers', 'oci-archive-gzip.tar');

test('CLI cache: inspect then ls of one archive file pays once; ls lists what rootfs.manifest lists', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'layerfs-cache-cli-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  await ok(['--home', home, 'inspect', ARCHIVE]);
  const after = snapshot(join(home, 'cache'));
  t.is(Object.keys(after).filter((n) => n.endsWith('.idx')).length, steps('layers'));
  const listed = JSON.parse(await ok(['--home', home, '--json', 'ls', ARCHIVE, '/etc'])) as Array<{ path: string; type: string; mode: string; size: number }>;
  t.deepEqual(snapshot(join(home, 'cache')), after, 'ls wrote nothing: every layer came from the cache');
  const want = truth('layers', 'rootfs.manifest')
    .split('\n')
    .filter((l) => /^\/etc\/[^/\t]+\t/.test(l))
    .map((l) => {
      const [path, type, mode, , , size] = l.split('\t');
      return { path, type, mode, size: size === '-' ? 0 : Number(size) };
    });
  t.deepEqual(
    listed.map((r) => ({ path: r.path, type: r.type, mode: r.mode, size: r.size })),
    want,
  );
});

test('CLI cache: system df --json shows the cached layers and their bytes; system prune --json drops them all', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'layerfs-cache-cli-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const empty = JSON.parse(await ok(['--home', home, '--json', 'system', 'df']));
  t.deepEqual(empty.cache.layers, []);
  t.is(empty.cache.bytes, 0);
  await ok(['--home', home, 'ls', ARCHIVE, '/']);
  const df = JSON.parse(await ok(['--home', home, '--json', 'system', 'df']));
  t.is(df.cache.layers.length, steps('layers'));
  t.true(
    df.cache.layers.every((l: { complete: boolean; dataBytes: number }) => l.complete && l.dataBytes > 0),
    'gzip layers keep their tar',
  );
  let bytes = 0;
  for (const sub of ['layers', 'locations']) for (const n of readdirSync(join(home, 'cache', sub))) bytes += statSync(join(home, 'cache', sub, n)).size;
  t.is(df.cache.bytes, bytes);
  t.regex(await ok(['--home', home, 'system', 'df']), /Open cache \(layers\)\s+4\s/);
  const pruned = JSON.parse(await ok(['--home', home, '--json', 'system', 'prune']));
  t.deepEqual(pruned, { removedLayers: steps('layers'), reclaimedBytes: bytes });
  t.false(existsSync(join(home, 'cache')));
  t.deepEqual(JSON.parse(await ok(['--home', home, '--json', 'system', 'df'])).cache.layers, []);
});
