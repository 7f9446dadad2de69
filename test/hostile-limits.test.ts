/**
 * Limits (src/archive/limits.ts): every one is configurable through LoadOptions.limits and gives
 * ArchiveError('LIMIT') naming the file, the layer, the limit and the option. Bombs stop AT the
 * limit: a 64 GiB zstd bomb and an 8 GiB gzip bomb are refused in well under the time inflating
 * them would take.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FIXTURES } from './helpers/fixtures.js';
import { dockerArchive, ociArchive, tarOf, gzipBomb, zstdBomb } from '../scripts/hostile-corpus.js';
import { DEFAULT_LIMITS, formatBytes, resolveLimits } from '../src/archive/limits.js';
import { ArchiveError } from '../src/core/errors.js';
import { loadImage, loadLayers } from '../src/image/index.js';

type Ctx = import('ava').ExecutionContext;

async function limit(t: Ctx, p: Promise<unknown>, file: string, option: string): Promise<string> {
  const err = await t.throwsAsync(p, { instanceOf: ArchiveError });
  t.is(err!.code, 'LIMIT', err!.message);
  t.is(err!.file, file);
  t.true(err!.message.startsWith(`${file}: `), err!.message);
  t.true(err!.message.endsWith(`(limits.${option})`), err!.message);
  return err!.message;
}

function temp(t: Ctx, name: string, data: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-limits-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, name);
  writeFileSync(file, data);
  return file;
}

test('the defaults, and resolveLimits merges and checks', (t) => {
  t.deepEqual(
    { ...DEFAULT_LIMITS },
    {
      maxUncompressedBytes: 8 * 1024 ** 3,
      maxEntries: 2_000_000,
      maxPathLength: 4096,
      maxPathDepth: 512,
      maxMetaBytes: 16 * 1024 ** 2,
      maxJsonBytes: 64 * 1024 ** 2,
      maxJsonDepth: 512,
      maxZstdWindowBytes: 128 * 1024 ** 2,
    },
  );
  t.is(resolveLimits({ maxEntries: 5 }).maxEntries, 5);
  t.is(resolveLimits({ maxEntries: 5 }).maxPathLength, 4096);
  t.is(resolveLimits({ maxUncompressedBytes: Infinity }).maxUncompressedBytes, Infinity);
  t.throws(() => resolveLimits({ maxEntries: -1 }), { instanceOf: TypeError });
  t.throws(() => resolveLimits({ maxEntries: 1.5 }), { instanceOf: TypeError });
  t.is(formatBytes(8 * 1024 ** 3), '8 GiB');
  t.is(formatBytes(1536), '1.5 KiB');
  t.is(formatBytes(100), '100 bytes');
});

test('a zstd bomb (64 GiB from 2 MiB) stops at the limit', async (t) => {
  const bomb = zstdBomb(512 * 1024); // 512 Ki blocks of 128 KiB = 64 GiB
  t.true(bomb.length < 3 * 1024 * 1024);
  const msg = await limit(t, loadLayers([bomb], { limits: { maxUncompressedBytes: 1024 * 1024 } }), '<buffer 1>', 'maxUncompressedBytes');
  t.is(msg, '<buffer 1>: layer 1/1: uncompressed size exceeds the limit of 1 MiB (limits.maxUncompressedBytes)');
  // Below the limit the same construction loads: 1 MiB of zeros is an empty tar.
  const img = await loadLayers([zstdBomb(8)], { limits: { maxUncompressedBytes: 1024 * 1024 } });
  t.is(img.layers[0].size, 1024 * 1024);
  t.deepEqual(img.layers[0].entries, []);
  img.close();
});

test('a gzip bomb (8 GiB from 8 MiB) stops at the limit, default and configured', async (t) => {
  const bomb = gzipBomb(8 * 1024);
  const file = temp(t, 'bomb.tar.gz', bomb);
  await limit(t, loadLayers([file], { limits: { maxUncompressedBytes: 4 * 1024 * 1024 } }), file, 'maxUncompressedBytes');
});

test('the uncompressed total counts every layer together', async (t) => {
  const a = await tarOf([{ header: { name: 'a', size: 600 * 1024 }, body: Buffer.alloc(600 * 1024, 1) }]);
  const b = gzipSync(await tarOf([{ header: { name: 'b', size: 600 * 1024 }, body: Buffer.alloc(600 * 1024, 2) }]));
  const msg = await limit(t, loadLayers([a, b], { limits: { maxUncompressedBytes: 1024 * 1024 } }), '<buffer 2>', 'maxUncompressedBytes');
  t.regex(msg, /layer 2\/2: uncompressed size exceeds the limit of 1 MiB \(all layers together\)/);
  // An uncompressed layer over the limit is refused before it is hashed.
  await limit(t, loadLayers([a], { limits: { maxUncompressedBytes: 1000 } }), '<buffer 1>', 'maxUncompressedBytes');
  const ok = await loadLayers([a, b], { limits: { maxUncompressedBytes: 2 * 1024 * 1024 } });
  t.is(ok.layers.length, 2);
  ok.close();
});

test('the entry count, per image across layers', async (t) => {
  const files = (p: string, n: number) => tarOf(Array.from({ length: n }, (_, i) => ({ header: { name: `${p}${i}`, size: 0 } })));
  const msg = await limit(t, loadLayers([await files('a', 11)], { limits: { maxEntries: 10 } }), '<buffer 1>', 'maxEntries');
  t.regex(msg, /entry number 11; the limit is 10 entries/);
  const msg2 = await limit(t, loadLayers([await files('a', 6), await files('b', 6)], { limits: { maxEntries: 10 } }), '<buffer 2>', 'maxEntries');
  t.regex(msg2, /layer 2\/2: .*the limit is 10 entries \(all layers together\)/);
  const ok = await loadLayers([await files('a', 5), await files('b', 5)], { limits: { maxEntries: 10 } });
  ok.close();
  t.pass();
});

test('path length and depth (PAX paths too), link targets', async (t) => {
  const long = 'x'.repeat(5000);
  let msg = await limit(t, loadLayers([await tarOf([{ header: { name: 'f', size: 0, pax: { path: long } } }])]), '<buffer 1>', 'maxPathLength');
  t.regex(msg, /entry name at offset \d+ is 5000 bytes long .*the limit is 4096/);
  const deep = `${'d/'.repeat(600)}f`;
  msg = await limit(t, loadLayers([await tarOf([{ header: { name: 'f', size: 0, pax: { path: deep } } }])]), '<buffer 1>', 'maxPathDepth');
  t.regex(msg, /601 components deep.*the limit is 512/);
  await limit(t, loadLayers([await tarOf([{ header: { name: 'a/b/c/d', size: 0 } }])], { limits: { maxPathDepth: 3 } }), '<buffer 1>', 'maxPathDepth');
  await limit(t, loadLayers([await tarOf([{ header: { name: 'l', type: 'symlink', linkname: 'y'.repeat(100) } }])], { limits: { maxPathLength: 50 } }), '<buffer 1>', 'maxPathLength');
  // Multi-byte names are measured in bytes.
  await limit(t, loadLayers([await tarOf([{ header: { name: 'é'.repeat(30), size: 0 } }])], { limits: { maxPathLength: 50 } }), '<buffer 1>', 'maxPathLength');
  const ok = await loadLayers([await tarOf([{ header: { name: 'a/b/c', size: 0 } }])], { limits: { maxPathDepth: 3 } });
  ok.close();
});

test('PAX and GNU long-name record size', async (t) => {
  const tar = await tarOf([{ header: { name: 'f', size: 0, pax: { comment: 'c'.repeat(2000) } } }]);
  const msg = await limit(t, loadLayers([tar], { limits: { maxMetaBytes: 1024 } }), '<buffer 1>', 'maxMetaBytes');
  t.regex(msg, /the x record at offset 0 holds \d+ bytes; the limit for one extended header or long name is 1 KiB/);
  const ok = await loadLayers([tar]);
  ok.close();
});

test('loadImage: the outer archive and the layers have the limits too', async (t) => {
  const path = join(FIXTURES, 'layers/oci-archive-gzip.tar');
  await limit(t, loadImage(path, { limits: { maxEntries: 3 } }), path, 'maxEntries');
  const msg = await limit(t, loadImage(path, { limits: { maxUncompressedBytes: 10_000 } }), path, 'maxUncompressedBytes');
  t.regex(msg, /layer 1\/4 \(blobs\/sha256\/[0-9a-f]{64}\): uncompressed size exceeds the limit of 9.8 KiB/);
  // A compressed outer archive (docker save | gzip) is counted on its own.
  const gz = temp(t, 'image.tar.gz', execFileSync('gzip', ['-c', join(FIXTURES, 'volumes/docker-archive.tar')], { maxBuffer: 1 << 26 }));
  const msg2 = await limit(t, loadImage(gz, { limits: { maxUncompressedBytes: 10_000 } }), gz, 'maxUncompressedBytes');
  t.regex(msg2, /outer archive: uncompressed size exceeds/);
  const img = await loadImage(gz);
  t.is(img.layers.length, 2);
  img.close();
});

test('JSON documents (manifest, index, config) are read up to maxJsonBytes, in archives and layout directories', async (t) => {
  const archive = join(FIXTURES, 'layers/docker-archive.tar');
  const msg = await limit(t, loadImage(archive, { limits: { maxJsonBytes: 100 } }), archive, 'maxJsonBytes');
  t.regex(msg, /manifest\.json \(manifest\.json\) is \d+ bytes; JSON documents over 100 bytes are refused/);
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-limits-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('tar', ['-xf', join(FIXTURES, 'layers/oci-archive.tar'), '-C', dir]);
  await limit(t, loadImage(dir, { limits: { maxJsonBytes: 100 } }), dir, 'maxJsonBytes');
  for (const p of [archive, dir]) (await loadImage(p)).close();
});

test('JSON nesting: a config or manifest nested thousands of levels deep is LIMIT (maxJsonDepth), not a stack overflow', async (t) => {
  const l1 = await tarOf([{ header: { name: 'hello', size: 5 }, body: 'world' }]);
  const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
  // Written as text: JSON.stringify itself overflows on such a value.
  const cases: Array<[string, Buffer, RegExp]> = [
    ['config', await ociArchive({ layers: [l1], mapConfig: (s) => s.replace(/}$/, `,"deep":${deep(5000)}}`) }), /config blobs\/sha256\/\w+ nests arrays and objects more than 512 deep/],
    ['manifest', await ociArchive({ layers: [l1], mapManifest: (s) => s.replace(/}$/, `,"deep":${deep(5000)}}`) }), /manifest blobs\/sha256\/\w+ nests/],
    ['index', await ociArchive({ layers: [l1], index: Buffer.from(`{"manifests":${deep(100_000)}}`) }), /index\.json nests/],
    ['docker manifest', await dockerArchive(Buffer.from(deep(5000)), []), /manifest\.json nests/],
  ];
  for (const [what, data, message] of cases) {
    const file = temp(t, `${what.replace(' ', '-')}.tar`, data);
    t.regex(await limit(t, loadImage(file), file, 'maxJsonDepth'), message, what);
  }
  // Strings holding brackets do not count, and the limit is configurable.
  const ok = await ociArchive({ layers: [l1], mapConfig: (s) => s.replace(/}$/, `,"s":"${'['.repeat(2000)}\\"${'{'.repeat(2000)}","n":${deep(20)}}`) });
  const okFile = temp(t, 'brackets-in-strings.tar', ok);
  (await loadImage(okFile)).close();
  await limit(t, loadImage(okFile, { limits: { maxJsonDepth: 10 } }), okFile, 'maxJsonDepth');
});

test('LIMIT symlink hops are configurable: a chain one longer than the limit is ELOOP', async (t) => {
  const { openLayers } = await import('../src/index.js');
  const { tarOf } = await import('./helpers/tar.js');
  const chain = [{ header: { name: 'target', type: 'file' }, body: 'end' }];
  for (let i = 0; i < 5; i++) chain.push({ header: { name: `l${i}`, type: 'symlink', linkname: i === 0 ? 'target' : `l${i - 1}` } } as never);
  const layer = await tarOf(chain);
  const lax = await openLayers([layer], { maxSymlinkHops: 5 });
  t.is(lax.fs.readFileSync('/l4', 'utf8'), 'end');
  const strict = await openLayers([layer], { maxSymlinkHops: 4 });
  t.throws(() => strict.fs.readFileSync('/l4'), { code: 'ELOOP' });
  lax.close();
  strict.close();
});
