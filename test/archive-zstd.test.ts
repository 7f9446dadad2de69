/**
 * zstd layers (src/archive/zstd.ts): both decoders (libzstd through zstd-napi, and the fzstd
 * fallback) against the zstd CLI as ground truth: what `zstd -dc` outputs we output, what it
 * refuses we refuse, with TRUNCATED where it reports a premature end. Frames are made by the CLI
 * (several frames, levels, checksums on and off, sizes known and not, long windows) or, for the
 * window limit and skippable frames, crafted byte by byte and checked with the CLI too.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBlob } from '../src/archive/compression.js';
import { Budget, resolveLimits } from '../src/archive/limits.js';
import { decompressZstd, ZSTD_WINDOW_MAX, ZstdError, zstdDecoder } from '../src/archive/zstd.js';
import { ArchiveError, type ArchiveErrorCode } from '../src/core/errors.js';
import { loadLayers } from '../src/image/index.js';
import { BufferSource } from '../src/source.js';
import { tarOf } from './helpers/tar.js';
import { requireOrSkip } from './helpers/require.js';

type Ctx = import('ava').ExecutionContext;
type Decoder = 'native' | 'js';

const nativeLoads = ((): boolean => {
  try {
    createRequire(import.meta.url)('zstd-napi/binding');
    return true;
  } catch {
    return false;
  }
})();
/** The decoders to check: fzstd always, libzstd where zstd-napi is built. */
const DECODERS: Decoder[] = nativeLoads ? ['native', 'js'] : ['js'];

function zstd(args: string[], input: Uint8Array): Buffer {
  return execFileSync('zstd', ['-q', ...args], { input, maxBuffer: 1 << 30 });
}

/** `zstd -dc` of `data`: its output, or how it failed. */
function cli(data: Uint8Array): { ok: true; out: Buffer } | { ok: false; stderr: string } {
  const r = spawnSync('zstd', ['-dc'], { input: data, maxBuffer: 1 << 30 });
  return r.status === 0 ? { ok: true, out: r.stdout } : { ok: false, stderr: r.stderr.toString() };
}

/** Our decoding of `data` with one decoder: the output, or the error. */
async function ours(data: Uint8Array, decoder: Decoder): Promise<{ ok: true; out: Buffer } | { ok: false; error: unknown }> {
  const parts: Buffer[] = [];
  const keep = (c: Uint8Array): void => void parts.push(Buffer.from(c));
  try {
    await decompressZstd(new BufferSource(data), { put: keep, putSync: keep, drain: () => undefined }, { decoder });
    return { ok: true, out: Buffer.concat(parts) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Asserts both decoders output what `zstd -dc` outputs for `data`. */
async function sameAsCli(t: Ctx, data: Uint8Array, what: string): Promise<void> {
  const truth = cli(data);
  if (!truth.ok) return t.fail(`${what}: zstd -dc refuses it: ${truth.stderr}`);
  for (const d of DECODERS) {
    const got = await ours(data, d);
    if (!got.ok) {
      t.fail(`${what} (${d}): ${(got.error as Error).message}`);
      continue;
    }
    t.is(got.out.length, truth.out.length, `${what} (${d}): length`);
    t.true(got.out.equals(truth.out), `${what} (${d}): bytes`);
  }
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const MAGIC = u32(0xfd2fb528);
/** A skippable frame (RFC 8878 §3.1.2) with magic 0x184D2A5<nibble> and `payload`. */
const skippable = (nibble: number, payload: Uint8Array): Buffer => Buffer.concat([u32(0x184d2a50 + nibble), u32(payload.length), payload]);
/** A one-frame stream: the given header fields, then one raw block holding `body`. */
function crafted(fhd: number, rest: number[], body = Buffer.from('A')): Buffer {
  const bh = (body.length << 3) | 1; // raw block, last
  return Buffer.concat([MAGIC, Buffer.from([fhd, ...rest]), Buffer.from([bh & 0xff, (bh >> 8) & 0xff, bh >> 16]), body]);
}
/** Window_Descriptor for 2^(10+exp) + mantissa eighths of it. */
const wd = (exp: number, mantissa = 0): number => (exp << 3) | mantissa;

/** Some content of each kind a rootfs has: random (raw blocks), text (compressed), zeros (RLE). */
function contents(): Buffer[] {
  const text = Buffer.from(Array.from({ length: 20000 }, (_, i) => `line ${i} of /usr/share/doc/example ${i % 7}\n`).join(''));
  return [randomBytes(300 * 1024), text, Buffer.alloc(600 * 1024), Buffer.concat([text, randomBytes(5000), Buffer.alloc(200 * 1024), text])];
}

test('the decoder in use: libzstd when zstd-napi is built', (t) => {
  t.log(`decoder: ${zstdDecoder}`);
  if (nativeLoads) t.regex(zstdDecoder, /^libzstd 1\.\d+\.\d+ \(zstd-napi\)$/);
  else if (!requireOrSkip(t, 'zstd-napi is not built here: only the fzstd fallback decodes')) t.is(zstdDecoder, 'fzstd');
});

test('frames made by the zstd CLI decode to what zstd -dc outputs, alone and concatenated', async (t) => {
  const c = contents();
  const variants: Array<[string, string[], Buffer]> = [
    ['level 1, from a file size', ['-1', '-c'], c[0]],
    ['level 3, text', ['-3', '-c'], c[1]],
    ['level 19, no checksum', ['-19', '--no-check', '-c'], c[3]],
    ['zeros, no content size', ['--no-content-size', '-c'], c[2]],
    ['level -5 (fast)', ['--fast=5', '-c'], c[3]],
    ['long window (2^24)', ['--long=24', '-c'], c[3]],
  ];
  const frames: Buffer[] = [];
  for (const [what, args, data] of variants) {
    const f = zstd(args, data);
    frames.push(f);
    await sameAsCli(t, f, what);
  }
  await sameAsCli(t, Buffer.concat(frames), 'all of them concatenated');
  // Output of exactly one and two output buffers (1 MiB each), and one byte more.
  for (const n of [1 << 20, 2 << 20, (1 << 20) + 1]) {
    await sameAsCli(t, zstd(['-c', '--no-check'], Buffer.alloc(n, 1)), `${n} bytes of ones`);
    await sameAsCli(t, zstd(['-c'], randomBytes(n)), `${n} random bytes`);
  }
  const empty = zstd(['-c'], Buffer.alloc(0));
  await sameAsCli(t, empty, 'an empty frame');
  await sameAsCli(t, Buffer.concat([empty, frames[1], empty]), 'empty frames around one');
});

test('skippable frames are skipped: between frames, after them, empty, and first', async (t) => {
  const [a, b] = [zstd(['-c'], contents()[1]), zstd(['-c', '--no-check'], contents()[3])];
  await sameAsCli(t, Buffer.concat([a, skippable(0, randomBytes(1000)), b]), 'between');
  await sameAsCli(t, Buffer.concat([a, skippable(15, Buffer.from('a trailing skippable frame'))]), 'after');
  await sameAsCli(t, Buffer.concat([a, skippable(7, Buffer.alloc(0)), skippable(3, randomBytes(70000)), b]), 'empty, and one over a chunk of 64 KiB');
  await sameAsCli(t, Buffer.concat([skippable(1, randomBytes(10)), a]), 'first');
});

test('a stream cut short is TRUNCATED, as zstd -dc reports a premature end', async (t) => {
  const c = contents();
  const a = zstd(['-c'], c[3]);
  const data = Buffer.concat([a, zstd(['-c'], c[1])]);
  const first = a.length;
  let checked = 0;
  for (const cut of [10, 200, 5000, Math.floor(data.length / 3), first - 1, first + 7, data.length - 1]) {
    const piece = data.subarray(0, cut);
    const truth = cli(piece);
    t.false(truth.ok, `zstd -dc accepts the first ${cut} bytes`);
    if (truth.ok || !/premature end|truncated/i.test(truth.stderr)) continue;
    checked++;
    for (const d of DECODERS) {
      const got = await ours(piece, d);
      t.false(got.ok, `${d} accepts the first ${cut} bytes`);
      if (got.ok) continue;
      t.true(got.error instanceof ZstdError, `${d}, cut at ${cut}: ${String(got.error)}`);
      t.is((got.error as ZstdError).code, 'TRUNCATED', `${d}, cut at ${cut}: ${(got.error as Error).message}`);
    }
  }
  t.true(checked >= 5, `only ${checked} cuts were premature ends for zstd -dc`);
  // Cut exactly at the end of the first frame it is a whole stream: the first frame.
  await sameAsCli(t, data.subarray(0, first), 'cut at a frame boundary');
});

test('damaged data that zstd -dc refuses is BAD_COMPRESSION (libzstd also checks checksums)', async (t) => {
  if (!requireOrSkip(t, !nativeLoads && 'zstd-napi is not built here: fzstd checks no checksums')) return;
  const good = zstd(['-c'], contents()[3]);
  let refused = 0;
  for (let i = 0; i < 40; i++) {
    const bad = Buffer.from(good);
    const at = 20 + ((i * 7919) % (bad.length - 40));
    bad[at] ^= 1 << (i % 8);
    const truth = cli(bad);
    const got = await ours(bad, 'native');
    if (truth.ok) {
      // A flip zstd -dc does not notice: we give what it gives.
      t.true(got.ok && got.out.equals(truth.out), `flip at ${at}: zstd -dc accepts it, we ${got.ok ? 'differ' : 'refuse it'}`);
      continue;
    }
    refused++;
    t.false(got.ok, `flip at ${at}: zstd -dc refuses it (${truth.stderr.trim()}), we accept it`);
    if (got.ok) continue;
    const code = /premature end/i.test(truth.stderr) ? 'TRUNCATED' : 'BAD_COMPRESSION';
    t.is((got.error as ZstdError).code, code, `flip at ${at}: ${(got.error as Error).message} / zstd: ${truth.stderr.trim()}`);
  }
  t.true(refused >= 30, `zstd -dc refused only ${refused} of 40 damaged streams`);
});

test('the window limit is the zstd CLI default, 128 MiB: crafted frame headers at and over it', async (t) => {
  t.is(ZSTD_WINDOW_MAX, 128 * 1024 * 1024);
  const accepted: Array<[string, Buffer]> = [
    ['window 2^27 (128 MiB)', crafted(0x00, [wd(17)])],
    ['window 2^10', crafted(0x00, [wd(0)])],
    ['single segment, 1-byte content size', crafted(0x20, [1])],
    ['single segment, 8-byte content size of 1', crafted(0xe0, [1, 0, 0, 0, 0, 0, 0, 0])],
  ];
  const refused: Array<[string, Buffer]> = [
    ['window 2^27 + 1/8 (144 MiB)', crafted(0x00, [wd(17, 1)])],
    ['window 2^31 (2 GiB)', crafted(0x00, [wd(21)])],
    ['window 2^41, the largest a header can say', crafted(0x00, [wd(31, 7)])],
    ['single segment, content size 2^31 (the window is the content size)', crafted(0xe0, [0, 0, 0, 0x80, 0, 0, 0, 0])],
    ['a second frame over the limit', Buffer.concat([crafted(0x00, [wd(17)]), crafted(0x04 /* checksum flag */, [wd(18)])])],
    ['after a skippable frame', Buffer.concat([skippable(2, Buffer.alloc(5)), crafted(0x00, [wd(20)])])],
    // fzstd's guard follows every block header of the frames before (raw, RLE, compressed, checksums).
    ['after frames of every block type', Buffer.concat([zstd(['-c'], contents()[3]), zstd(['-c', '--no-check'], contents()[2]), zstd(['-c'], contents()[0]), crafted(0x00, [wd(18)])])],
  ];
  for (const [what, data] of accepted) await sameAsCli(t, data, what);
  for (const [what, data] of refused) {
    const truth = cli(data);
    t.false(truth.ok, `${what}: zstd -dc accepts it`);
    if (!truth.ok) t.regex(truth.stderr, /Window size larger than maximum|too much memory/, what);
    for (const d of DECODERS) {
      const got = await ours(data, d);
      t.false(got.ok, `${what} (${d}): accepted`);
      if (got.ok) continue;
      t.true(got.error instanceof ZstdError, `${what} (${d}): ${String(got.error)}`);
      t.is((got.error as ZstdError).code, 'LIMIT', 'a window over the limit is a limit, not corruption');
      t.regex((got.error as Error).message, /asks for a window.* over the 128 MiB this reader allows/, `${what} (${d})`);
    }
  }
});

test('frames the zstd CLI makes with a window over 128 MiB are refused; at 128 MiB they load', async (t) => {
  const data = contents()[1];
  // From a pipe the size is unknown, so the frame keeps the window asked for.
  const frame = (wlog: number): Buffer => execFileSync('sh', ['-c', `zstd -q -c --long=${wlog}`], { input: data });
  await sameAsCli(t, frame(27), '--long=27');
  for (const wlog of [28, 31]) {
    const f = frame(wlog);
    t.false(cli(f).ok, `zstd -dc accepts --long=${wlog}`);
    const roomy = spawnSync('zstd', ['-dc', `--memory=${2 ** (wlog - 20)}MB`], { input: f, maxBuffer: 1 << 30 });
    t.is(roomy.status, 0, 'with --memory it decodes');
    for (const d of DECODERS) {
      const got = await ours(f, d);
      t.false(got.ok, `--long=${wlog} (${d})`);
      if (!got.ok) t.regex((got.error as Error).message, /window/, `--long=${wlog} (${d})`);
    }
  }
});

test('LIMIT maxZstdWindowBytes: raised, a --long=28 frame loads as zstd --memory decodes it; lowered, a 1 MiB window is refused', async (t) => {
  const data = contents()[1];
  const frame = execFileSync('sh', ['-c', 'zstd -q -c --long=28'], { input: data });
  const truth = spawnSync('zstd', ['-dc', '--memory=256MB'], { input: frame, maxBuffer: 1 << 30 });
  t.is(truth.status, 0);
  const open = (maxZstdWindowBytes: number) => openBlob(new BufferSource(frame), { file: 'long.zst', hash: false, budget: new Budget(resolveLimits({ maxZstdWindowBytes })) });
  const err = await t.throwsAsync(open(2 ** 27), { instanceOf: ArchiveError });
  t.is(err!.code, 'LIMIT');
  t.regex(err!.message, /long\.zst: .*window.*\(limits\.maxZstdWindowBytes\)/);
  const opened = await open(2 ** 28);
  const back = Buffer.alloc(opened.size);
  opened.tar.read(back, 0, back.length, 0);
  t.true(back.equals(truth.stdout), 'raised: the bytes zstd -dc --memory gives');
  if (opened.spillFd !== undefined) closeSync(opened.spillFd);
  // A default-level frame of 4 MiB asks for a window over 1 MiB: the CLI limited to 1 MB refuses it.
  const plain = zstd(['-c'], Buffer.alloc(4 << 20, 1));
  t.regex(spawnSync('zstd', ['-dc', '--memory=1MB'], { input: plain, maxBuffer: 1 << 30 }).stderr.toString(), /Window size larger than maximum|too much memory/);
  const small = await t.throwsAsync(openBlob(new BufferSource(plain), { file: 'p.zst', hash: false, budget: new Budget(resolveLimits({ maxZstdWindowBytes: 1 << 20 })) }), {
    instanceOf: ArchiveError,
  });
  t.is(small!.code, 'LIMIT');
});

test('a frame declaring a 2 GiB window over 1 GiB of zeros is refused before any of it is allocated (fzstd)', (t) => {
  // In a fresh process, so its peak RSS is this decode's. Without the walker fzstd allocates the
  // declared 2 GiB window and fills 1 GiB of it (RLE blocks) before failing or finishing.
  const blocks = 8192;
  const rle = Buffer.alloc(blocks * 4);
  for (let i = 0; i < blocks; i++) {
    const bh = (131072 << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0);
    rle.set([bh & 0xff, (bh >> 8) & 0xff, bh >> 16, 0], i * 4);
  }
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-zstd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bomb = join(dir, 'window.zst');
  writeFileSync(bomb, Buffer.concat([MAGIC, Buffer.from([0x00, wd(21)]), rle]));
  const script = `
    import { readFileSync } from 'node:fs';
    import { decompressZstd } from ${JSON.stringify(fileURLToPath(new URL('../src/archive/zstd.ts', import.meta.url)))};
    import { BufferSource } from ${JSON.stringify(fileURLToPath(new URL('../src/source.ts', import.meta.url)))};
    const data = readFileSync(${JSON.stringify(bomb)});
    const before = process.resourceUsage().maxRSS;
    let out = 0, error = '';
    const put = (c) => { out += c.length; };
    try { await decompressZstd(new BufferSource(data), { put, putSync: put, drain: () => undefined }, { decoder: 'js' }); } catch (e) { error = e.message; }
    console.log(JSON.stringify({ out, error, grewKiB: process.resourceUsage().maxRSS - before }));`;
  const r = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' }));
  t.is(r.out, 0);
  t.regex(r.error, /window of 2 GiB, over the 128 MiB/);
  t.true(r.grewKiB < 64 * 1024, `peak RSS grew ${r.grewKiB} KiB`);
  // The CLI agrees the frame is refused for its window.
  t.regex(spawnSync('zstd', ['-t', bomb]).stderr.toString(), /Window size larger than maximum/);
});

test('through openBlob: digests are sha256 of the blob and of zstd -dc output; the limit stops at the exact byte', async (t) => {
  const tar = await tarOf([
    { header: { name: 'a', size: 70000 }, body: randomBytes(70000) },
    { header: { name: 'b', size: 300000 }, body: Buffer.alloc(300000, 7) },
  ]);
  const blob = Buffer.concat([zstd(['-c'], tar.subarray(0, 100000)), skippable(4, Buffer.from('meta')), zstd(['-c', '-9'], tar.subarray(100000))]);
  const plain = cli(blob);
  if (!plain.ok) return t.fail(plain.stderr);
  const sha = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const budget = (n: number): Budget => new Budget(resolveLimits({ maxUncompressedBytes: n }));
  const opened = await openBlob(new BufferSource(blob), { file: 'x.zst', hash: true, budget: budget(plain.out.length) });
  t.is(opened.compression, 'zstd');
  t.is(opened.size, plain.out.length);
  t.is(opened.digest, sha(blob));
  t.is(opened.diffId, sha(plain.out));
  const back = Buffer.alloc(opened.size);
  opened.tar.read(back, 0, back.length, 0);
  t.true(back.equals(plain.out), 'the spill file holds the tar');
  if (opened.spillFd !== undefined) closeSync(opened.spillFd);
  const err = await t.throwsAsync(openBlob(new BufferSource(blob), { file: 'x.zst', hash: true, budget: budget(plain.out.length - 1) }), { instanceOf: ArchiveError });
  t.is(err!.code, 'LIMIT');
});

test('through loadLayers: bad zstd layers fail with ArchiveError naming the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-zstd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tar = await tarOf([{ header: { name: 'f', size: 200000 }, body: randomBytes(200000) }]);
  const good = zstd(['-c'], tar);
  const cases: Array<[string, Buffer, ArchiveErrorCode, RegExp]> = [
    ['cut.zst', good.subarray(0, 150000), 'TRUNCATED', /zstd data cannot be decompressed after \d+ bytes of output/],
    ['window.zst', crafted(0x00, [wd(22)]), 'LIMIT', /layer 1\/1: zstd data cannot be decompressed: a frame asks for a window.*\(limits\.maxZstdWindowBytes\)/],
    ['garbage-after.zst', Buffer.concat([good, Buffer.from('not a frame at all')]), 'BAD_COMPRESSION', /zstd data cannot be decompressed/],
  ];
  for (const [name, data, code, re] of cases) {
    const file = join(dir, name);
    writeFileSync(file, data);
    t.false(cli(data).ok, `zstd -dc accepts ${name}`);
    const err = await t.throwsAsync(loadLayers([file]), { instanceOf: ArchiveError });
    t.is(err!.code, code, err!.message);
    t.is(err!.file, file);
    t.regex(err!.message, re);
  }
  const file = join(dir, 'good.zst');
  writeFileSync(file, good);
  const img = await loadLayers([file]);
  t.deepEqual(
    img.layers[0].entries.map((e) => e.path),
    ['f'],
  );
  img.close();
});

test('without the native module (zstd-napi missing or unbuilt) fzstd decodes instead', (t) => {
  // A fresh process where require('zstd-napi/...') fails as it does when npm left it out.
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-zstd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const hide = join(dir, 'hide-zstd-napi.cjs');
  writeFileSync(
    hide,
    `const M = require('node:module'); const load = M._load;
M._load = function (req, ...rest) { if (/^zstd-napi(\\/|$)/.test(req)) { const e = new Error("Cannot find module '" + req + "'"); e.code = 'MODULE_NOT_FOUND'; throw e; } return load.call(this, req, ...rest); };`,
  );
  const layer = join(dir, 'layer.tar.zst');
  writeFileSync(layer, zstd(['-c'], execFileSync('tar', ['-cf', '-', '-C', dir, 'hide-zstd-napi.cjs'])));
  const script = `
    const { zstdDecoder } = await import(${JSON.stringify(fileURLToPath(new URL('../src/archive/zstd.ts', import.meta.url)))});
    const { loadLayers } = await import(${JSON.stringify(fileURLToPath(new URL('../src/image/index.ts', import.meta.url)))});
    const img = await loadLayers([${JSON.stringify(layer)}]);
    console.log(JSON.stringify({ zstdDecoder, paths: img.layers[0].entries.map((e) => e.path) }));
    img.close();`;
  const r = JSON.parse(execFileSync(process.execPath, ['--require', hide, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' }));
  t.is(r.zstdDecoder, 'fzstd');
  t.deepEqual(r.paths, ['hide-zstd-napi.cjs']);
});
