/**
 * `npm run test:slow`: the writable layer beyond memory at full size. Writing 4 GiB into one
 * container file, and a full copy-up of a 2 GiB lower file, each in a child process with the
 * default spill budget, peak at under 250 MiB of RSS (VmHWM from /proc) and read back right.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dir, file, patternSource } from '../../bench/layers.js';
import { writeTar } from '../../src/out/tar-write.js';

const CHILD = fileURLToPath(new URL('./spill-child.ts', import.meta.url));
const GiB = 1024 ** 3;
const MiB = 1 << 20;

function child(...args: string[]): { vmHwmKiB: number; size: number; samples: Array<[number, number]> } {
  const r = spawnSync(process.execPath, ['--import=tsx', CHILD, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`spill child ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

let work = '';
let small = '';
let big = '';
test.before(async () => {
  work = mkdtempSync(join(tmpdir(), 'layerfs-slow-spill-'));
  small = join(work, 'small.tar');
  big = join(work, 'big.tar');
  await writeTar([dir('data'), file('data/big', patternSource(4096))], small);
  await writeTar([dir('data'), file('data/big', patternSource(2 * GiB))], big);
});
test.after.always(() => rmSync(work, { recursive: true, force: true }));

test.serial('spill: writing 4 GiB into one container file peaks under 250 MiB RSS', (t) => {
  const r = child('write', small, String(4 * GiB));
  t.is(r.size, 4 * GiB);
  // Piece i (1 MiB) holds the byte i & 0xff.
  for (const [pos, byte] of r.samples) t.is(byte, Math.floor(pos / MiB) & 0xff, `byte at ${pos}`);
  t.true(r.vmHwmKiB < 250 * 1024, `peak RSS ${Math.round(r.vmHwmKiB / 1024)} MiB`);
  t.log(`peak RSS ${Math.round(r.vmHwmKiB / 1024)} MiB for 4 GiB written`);
});

test.serial('spill: a full copy-up of a 2 GiB lower file peaks under 250 MiB RSS', (t) => {
  const r = child('copyup', big);
  t.is(r.size, 2 * GiB + 1);
  const pattern = Buffer.alloc(1);
  for (const [pos, byte] of r.samples) {
    if (pos === 2 * GiB) t.is(byte, 'x'.charCodeAt(0));
    else {
      patternSource(2 * GiB).read(pattern, 0, 1, pos);
      t.is(byte, pattern[0], `byte at ${pos}`);
    }
  }
  t.true(r.vmHwmKiB < 250 * 1024, `peak RSS ${Math.round(r.vmHwmKiB / 1024)} MiB`);
  t.log(`peak RSS ${Math.round(r.vmHwmKiB / 1024)} MiB for a 2 GiB copy-up`);
});
