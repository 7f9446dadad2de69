/**
 * The writable layer beyond memory (src/layer/spill-store.ts): with a small `spill` budget, file
 * data written into a container file, a full copy-up and chunked copy-up's chunks go to scratch
 * files, so memory stays far below the data's size; what is read back is what Node's own fs holds
 * after the same calls on a real file (ground truth), and a saved layer streams it.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLayers } from '../src/index.js';
import { BufferData, CHUNK, ChunkedData, LowerData } from '../src/layer/data.js';
import { dir, file, patternSource, tarBuffer } from '../bench/layers.js';
import { readAll } from '../src/source.js';

const MiB = 1 << 20;
const scratch = (t: import('ava').ExecutionContext): string => {
  const d = mkdtempSync(join(tmpdir(), 'layerfs-spill-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
};

/** A layer tarball with data/big of `size` pattern bytes. */
async function bigLayer(t: import('ava').ExecutionContext, size: number): Promise<string> {
  const path = join(scratch(t), 'layer.tar');
  writeFileSync(path, await tarBuffer([dir('data'), file('data/big', patternSource(size))]));
  return path;
}

/** Data in memory that this process holds outside the JS heap's objects (Buffers). */
const external = (): number => process.memoryUsage().arrayBuffers;

test('spill: 64 MiB written into one container file with spill 1 MiB stays out of memory and reads back whole', async (t) => {
  const view = await openLayers([await bigLayer(t, 4096)], { spill: MiB });
  t.teardown(() => view.close());
  const piece = Buffer.alloc(MiB);
  const want = createHash('sha256');
  const before = external();
  let peak = 0;
  const fd = view.fs.openSync('/data/new', 'w');
  for (let i = 0; i < 64; i++) {
    piece.fill(i + 1);
    piece.writeUInt32LE(i, 100);
    view.fs.writeSync(fd, piece, 0, piece.length, i * MiB);
    want.update(piece);
    peak = Math.max(peak, external() - before);
  }
  view.fs.closeSync(fd);
  t.true(peak < 8 * MiB, `external memory grew by ${peak} bytes for 64 MiB written`);
  t.true(view.core.s.spill.inMemory <= MiB, `the view holds ${view.core.s.spill.inMemory} bytes in memory`);
  t.is(view.core.s.spill.filesOpened, 1);
  const got = createHash('sha256');
  const rfd = view.fs.openSync('/data/new', 'r');
  for (let i = 0; i < 64; i++) {
    view.fs.readSync(rfd, piece, 0, MiB, i * MiB);
    got.update(piece);
  }
  view.fs.closeSync(rfd);
  t.is(got.digest('hex'), want.digest('hex'));
});

test('spill: a full copy-up of a 32 MiB lower file with spill 1 MiB copies into a scratch file', async (t) => {
  const size = 32 * MiB;
  const view = await openLayers([await bigLayer(t, size)], { spill: MiB, copyUp: 'full' });
  t.teardown(() => view.close());
  const before = external();
  view.fs.appendFileSync('/data/big', 'x');
  t.true(external() - before < 4 * MiB, 'the copy did not go through memory');
  t.is(view.stats.copyUpBytes, size);
  const ino = view.core.s.upperRoot!.children!.get('data') as import('../src/layer/inode.js').Inode;
  const data = (ino.children!.get('big') as import('../src/layer/inode.js').Inode).data as BufferData;
  t.true(data instanceof BufferData && data.spilled);
  t.is(data.storedBytes, size + 1, 'the writable layer holds the whole file');
  const want = createHash('sha256')
    .update(readAll(patternSource(size)))
    .update('x')
    .digest('hex');
  t.is(createHash('sha256').update(view.fs.readFileSync('/data/big')).digest('hex'), want);
});

test('spill: chunked copy-up past the budget keeps its chunks in a scratch file', async (t) => {
  const size = 4 * MiB;
  const view = await openLayers([await bigLayer(t, size)], { spill: 64 * 1024, copyUp: 'chunked' });
  t.teardown(() => view.close());
  const want = Buffer.from(readAll(patternSource(size)));
  const fd = view.fs.openSync('/data/big', 'r+');
  for (let pos = 100; pos < size; pos += 8192) {
    view.fs.writeSync(fd, Buffer.from([0xaa]), 0, 1, pos);
    want[pos] = 0xaa;
  }
  view.fs.closeSync(fd);
  const ino = view.core.s.upperRoot!.children!.get('data') as import('../src/layer/inode.js').Inode;
  const data = (ino.children!.get('big') as import('../src/layer/inode.js').Inode).data as ChunkedData;
  t.true(data instanceof ChunkedData);
  t.is(data.storedBytes, 16 * 4096, 'memory: as many chunks as the budget holds');
  t.is(data.diskBytes, (size / 8192 - 16) * 4096, 'the other chunks are in the scratch file');
  t.is(view.stats.copyUpBytes, (size / 8192) * 4096);
  t.true(view.fs.readFileSync('/data/big').equals(want));
});

test('chunked data: a run of chunks never written is one read of the lower bytes, around the chunks written', (t) => {
  const size = 4 * MiB;
  const lower = patternSource(size);
  const reads: Array<[number, number]> = [];
  const counted = new LowerData({
    size,
    read: (b, o, l, p) => {
      reads.push([p, l]);
      return lower.read(b, o, l, p);
    },
  });
  const data = new ChunkedData(counted);
  const out = Buffer.alloc(size);
  t.is(data.read(out, 0, size, 0), size);
  t.deepEqual(reads, [[0, size]], 'an unwritten file: one read');
  t.true(out.equals(readAll(lower)));
  data.write(Buffer.from([1]), 0, 1, 2 * CHUNK + 5);
  reads.length = 0;
  t.is(data.read(out, 0, size, 0), size);
  // Chunk 2 was materialised by the write (one read of its lower bytes, before); the reads around it are two.
  t.deepEqual(reads, [
    [0, 2 * CHUNK],
    [3 * CHUNK, size - 3 * CHUNK],
  ]);
  const want = Buffer.from(readAll(lower));
  want[2 * CHUNK + 5] = 1;
  t.true(out.equals(want));
});

/** A small deterministic random generator. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

for (const copyUp of ['full', 'chunked', 'metadata'] as const) {
  test(`spill (${copyUp}): writes and truncates across the budget leave what Node's fs leaves in a real file`, async (t) => {
    const size = 300_000;
    const layer = await bigLayer(t, size);
    const real = join(scratch(t), 'real');
    writeFileSync(real, readAll(patternSource(size)));
    const view = await openLayers([layer], { spill: 16 * 1024, copyUp });
    t.teardown(() => view.close());
    const r = rng(copyUp.length + 7);
    const vfd = view.fs.openSync('/data/big', 'r+');
    const rfd = openSync(real, 'r+');
    for (let i = 0; i < 200; i++) {
      const op = r();
      if (op < 0.15) {
        const len = Math.floor(r() * 600_000);
        view.fs.ftruncateSync(vfd, len);
        ftruncateSync(rfd, len);
      } else {
        const len = 1 + Math.floor(r() * (op < 0.3 ? 40_000 : 3000));
        const pos = Math.floor(r() * 650_000);
        const b = Buffer.alloc(len, Math.floor(r() * 256));
        view.fs.writeSync(vfd, b, 0, len, pos);
        writeSync(rfd, b, 0, len, pos);
      }
    }
    view.fs.closeSync(vfd);
    closeSync(rfd);
    t.true(view.fs.readFileSync('/data/big').equals(readFileSync(real)));
    t.true(view.core.s.spill.inMemory <= 16 * 1024 + 4096 * 2, `${view.core.s.spill.inMemory} bytes in memory`);
  });
}

test('spill: a writable layer with spilled data saves and restores through a streamed tar', async (t) => {
  const view = await openLayers([await bigLayer(t, 4096)], { spill: 64 * 1024 });
  t.teardown(() => view.close());
  const data = Buffer.alloc(MiB, 7);
  view.fs.writeFileSync('/data/out', data);
  const saved = join(scratch(t), 'upper.tar');
  const { writeTar } = await import('../src/out/tar-write.js');
  await writeTar(view.upperEntries(), saved);
  const again = await openLayers([saved]);
  t.teardown(() => again.close());
  t.true(again.fs.readFileSync('/data/out').equals(data));
});
