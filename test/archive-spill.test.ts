/**
 * Decompressing layer blobs into the spill file (src/archive/compression.ts, spill.ts): gzip and
 * zstd streams of several MiB (more than the writer's queue and zstd's ring of output buffers)
 * land in the spill file byte for byte as `gzip -dc` / `zstd -dc` output them; digests are sha256
 * of the stored bytes and of that output; the limit on uncompressed bytes holds at the exact byte;
 * damaged gzip gives the codes `gzip -t` implies; a failed spill write is reported as itself.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBlob, sha256Of } from '../src/archive/compression.js';
import { Budget, resolveLimits } from '../src/archive/limits.js';
import { SpillWriter } from '../src/archive/spill.js';
import { ArchiveError } from '../src/core/errors.js';
import { loadLayers } from '../src/image/index.js';
import { BufferSource, FileRegion } from '../src/source.js';
import { requireOrSkip } from './helpers/require.js';

type Ctx = import('ava').ExecutionContext;

const sha = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const budget = (n: number): Budget => new Budget(resolveLimits({ maxUncompressedBytes: n }));

function tempDir(t: Ctx): string {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-spill-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** ~12 MiB that compresses unevenly: random stretches, text, long runs of zeros. */
function bigContent(): Buffer {
  const text = Buffer.from(Array.from({ length: 40000 }, (_, i) => `/usr/lib/x86_64-linux-gnu/lib${i % 97}.so.${i % 5}\n`).join(''));
  return Buffer.concat([randomBytes(3 << 20), text, Buffer.alloc(5 << 20), randomBytes(1 << 20), text, Buffer.alloc(123457, 1)]);
}

const tool = (cmd: string, args: string[], input: Uint8Array): Buffer => execFileSync(cmd, args, { input, maxBuffer: 1 << 30 });

for (const [form, compress, decompress] of [
  ['gzip', (b: Buffer) => Buffer.concat([tool('gzip', ['-c', '-6'], b.subarray(0, 5 << 20)), tool('gzip', ['-c', '-1'], b.subarray(5 << 20))]), (b: Buffer) => tool('gzip', ['-dc'], b)],
  [
    'zstd',
    (b: Buffer) => Buffer.concat([tool('zstd', ['-q', '-c', '-3'], b.subarray(0, 5 << 20)), tool('zstd', ['-q', '-c', '--fast=3'], b.subarray(5 << 20))]),
    (b: Buffer) => tool('zstd', ['-dc'], b),
  ],
] as const) {
  test(`${form}: a multi-MiB stream of two members lands in the spill file as ${form} -dc outputs it`, async (t) => {
    const blob = compress(bigContent());
    const plain = decompress(blob);
    const opened = await openBlob(new BufferSource(blob), { file: `x.${form}`, hash: true, budget: budget(plain.length) });
    t.teardown(() => closeSync(opened.spillFd!));
    t.is(opened.compression, form);
    t.is(opened.size, plain.length);
    t.is(opened.digest, sha(blob));
    t.is(opened.diffId, sha(plain));
    t.is(sha256Of(opened.tar), sha(plain), 'the spill file holds exactly the decompressed bytes');
    // One byte less room: refused, at the limit.
    const err = await t.throwsAsync(openBlob(new BufferSource(blob), { file: `x.${form}`, hash: false, budget: budget(plain.length - 1) }), { instanceOf: ArchiveError });
    t.is(err!.code, 'LIMIT');
    t.regex(err!.message, /^x\.\w+: uncompressed size exceeds the limit of /);
  });
}

test('gzip: cut short is TRUNCATED and damaged is BAD_COMPRESSION, where gzip -t says so', async (t) => {
  const dir = tempDir(t);
  const good = tool('gzip', ['-c'], bigContent().subarray(0, 3 << 20));
  let truncated = 0;
  let bad = 0;
  const cases: Buffer[] = [];
  for (const cut of [30, 5000, 700000, good.length - 5]) cases.push(good.subarray(0, cut));
  for (let i = 0; i < 12; i++) {
    const b = Buffer.from(good);
    b[100 + ((i * 104729) % (b.length - 200))] ^= 0x10;
    cases.push(b);
  }
  for (const [i, data] of cases.entries()) {
    const truth = spawnSync('gzip', ['-t'], { input: data });
    const stderr = truth.stderr.toString();
    const file = join(dir, `case-${i}.gz`);
    writeFileSync(file, data);
    if (truth.status === 0) continue; // a flip gzip does not notice (none expected: gzip has a CRC)
    const code = /unexpected end of file/.test(stderr) ? 'TRUNCATED' : 'BAD_COMPRESSION';
    if (code === 'TRUNCATED') truncated++;
    else bad++;
    const err = await t.throwsAsync(loadLayers([file]), { instanceOf: ArchiveError });
    t.is(err!.code, code, `${err!.message} / gzip: ${stderr.trim()}`);
    t.is(err!.file, file);
    t.regex(err!.message, /layer 1\/1: gzip data cannot be decompressed after \d+ bytes of output/);
  }
  t.is(truncated, 4);
  t.true(bad >= 10, `gzip -t refused only ${bad} damaged streams`);
});

test('SpillWriter: writes land in order; a failed write is thrown by drain and every later call, settle never throws', async (t) => {
  const dir = tempDir(t);
  const fd = openSync(join(dir, 'spill'), 'w+');
  t.teardown(() => closeSync(fd));
  const w = new SpillWriter(fd);
  const parts = Array.from({ length: 9 }, (_, i) => randomBytes(100000 + i));
  for (const p of parts) {
    w.write(p);
    await w.drain(2);
  }
  await w.drain(0);
  t.is(
    w.size,
    parts.reduce((n, p) => n + p.length, 0),
  );
  t.is(sha256Of(new FileRegion(fd, 0, w.size)), sha(Buffer.concat(parts)));

  const ro = openSync(join(dir, 'spill'), 'r');
  t.teardown(() => closeSync(ro));
  const bad = new SpillWriter(ro);
  bad.write(Buffer.from('x'));
  bad.write(Buffer.from('y'));
  const err = await t.throwsAsync(async () => bad.drain(0));
  t.is((err as NodeJS.ErrnoException).code, 'EBADF');
  t.throws(() => bad.write(Buffer.from('z')), { code: 'EBADF' });
  await t.notThrowsAsync(bad.settle());
  t.is((bad.error as NodeJS.ErrnoException).code, 'EBADF');
  // The same for a synchronous write.
  const badSync = new SpillWriter(ro);
  t.throws(() => badSync.writeSync(Buffer.from('x')), { code: 'EBADF' });
  t.is((badSync.error as NodeJS.ErrnoException).code, 'EBADF');
  t.throws(() => badSync.writeSync(Buffer.from('y')), { code: 'EBADF' });
});

test.serial('a full disk under the spill file is reported as ENOSPC, not as bad data, and leaves no descriptor open', async (t) => {
  const dir = tempDir(t);
  const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]).status === 0;
  if (!requireOrSkip(t, !mounted && 'cannot mount a tmpfs here (needs root)')) return;
  t.teardown(() => void spawnSync('umount', ['-l', dir]));
  const content = bigContent();
  const blobs = { gzip: tool('gzip', ['-c'], content), zstd: tool('zstd', ['-q', '-c'], content) };
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir; // os.tmpdir(), where the spill file goes
  try {
    for (const [form, blob] of Object.entries(blobs)) {
      const fds = readdirSync('/proc/self/fd').length;
      const err = await t.throwsAsync(openBlob(new BufferSource(blob), { file: `x.${form}`, hash: true }));
      t.false(err instanceof ArchiveError, `${form}: ${err?.message}`);
      t.is((err as NodeJS.ErrnoException).code, 'ENOSPC', `${form}: ${err?.message}`);
      t.is(readdirSync('/proc/self/fd').length, fds, `${form}: the spill file is closed`);
    }
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
});
