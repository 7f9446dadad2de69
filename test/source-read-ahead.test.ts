/**
 * FileRegion serves small reads from bytes read ahead (src/source.ts). Whatever the pattern, a
 * read gives what node:fs reads from the same file at the same place: random positions and
 * lengths, reads that cross the read-ahead's edge, slices sharing it, and reads at the end.
 */
import test from 'ava';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRegion } from '../src/source.js';

test('a FileRegion and its slices read what node:fs reads, for small and big reads in any order', (t) => {
  const d = mkdtempSync(join(tmpdir(), 'layerfs-read-ahead-'));
  const path = join(d, 'data');
  const bytes = Buffer.alloc(600_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 9)) & 0xff;
  writeFileSync(path, bytes);
  const fd = openSync(path, 'r');
  try {
    const whole = new FileRegion(fd, 0, bytes.length);
    const slices = [whole, whole.slice(1000, 300_000), whole.slice(131_000, 469_000), whole.slice(599_990, 10)];
    let seed = 12345;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let k = 0; k < 3000; k++) {
      const r = slices[next(slices.length)];
      const pos = next(r.size + 5);
      const len = k % 50 === 0 ? next(300_000) : next(20_000);
      const got = Buffer.alloc(len + 8, 0xee);
      const n = r.read(got, 8, len, pos);
      // node:fs on the same file: the reference.
      const want = Buffer.alloc(Math.max(0, Math.min(len, r.size - pos)));
      const m = want.length ? readSync(fd, want, 0, want.length, r.start + pos) : 0;
      t.is(n, m, `read ${len} at ${pos} of a ${r.size}-byte region at ${r.start}`);
      if (!got.subarray(8, 8 + n).equals(want.subarray(0, m))) {
        t.fail(`bytes differ: read ${len} at ${pos} of a ${r.size}-byte region at ${r.start}`);
        return;
      }
      t.true(got.subarray(0, 8).every((b) => b === 0xee));
    }
    t.true(readFileSync(path).equals(bytes), 'the file itself is untouched');
  } finally {
    closeSync(fd);
    rmSync(d, { recursive: true, force: true });
  }
});
