/**
 * Run by test/slow/spill.test.ts in its own process, so that its peak RSS (VmHWM) is the cost of
 * one job with the default spill budget:
 *   write LAYER BYTES     write BYTES into a new container file, 1 MiB at a time, then check samples
 *   copyup LAYER          append one byte to LAYER's data/big with full copy-up, then check samples
 * Prints one JSON line: { vmHwmKiB, size, samples: [[pos, byte]...] } read back through the view.
 */
import { readFileSync } from 'node:fs';
import { openLayers } from '../../src/index.js';

const [mode, layer, bytes] = process.argv.slice(2);
const view = await openLayers([layer!], { copyUp: 'full' });
const MiB = 1 << 20;
let path = '/data/big';
if (mode === 'write') {
  path = '/data/new';
  const piece = Buffer.alloc(MiB);
  const fd = view.fs.openSync(path, 'w');
  for (let i = 0; i * MiB < Number(bytes); i++) {
    piece.fill(i & 0xff);
    view.fs.writeSync(fd, piece, 0, MiB, i * MiB);
  }
  view.fs.closeSync(fd);
} else {
  view.fs.appendFileSync(path, 'x');
}
const size = view.fs.statSync(path).size;
const fd = view.fs.openSync(path, 'r');
const one = Buffer.alloc(1);
const samples: Array<[number, number]> = [];
for (const pos of [0, MiB + 3, Math.floor(size / 2), size - 2, size - 1]) {
  view.fs.readSync(fd, one, 0, 1, pos);
  samples.push([pos, one[0]!]);
}
view.fs.closeSync(fd);
view.close();
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1];
process.stdout.write(JSON.stringify({ vmHwmKiB: Number(hwm), size, samples }) + '\n');
