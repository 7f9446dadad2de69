// @ts-check
/**
 * Run in a child process by bench/concurrent.ts (plain node over dist/, as users run it):
 *   node bench/concurrent-child.mjs --open ARCHIVE VERIFY CONCURRENCY → loadImage; one JSON line: openMs,
 *     and cpuMs, the CPU time (user + system, every thread of the process) the open took
 *   node bench/concurrent-child.mjs --gunzip BLOB... → each blob inflated by zlib.gunzipSync on this
 *     thread alone (read first, untimed); one JSON line: the time of each, and its CPU time
 * JavaScript so that no TypeScript loader is in the measured process; tsconfig.json type-checks it.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { loadImage } from '../dist/image/index.js';

const [, , mode, ...rest] = process.argv;
const now = () => Number(process.hrtime.bigint()) / 1e6;
if (mode === '--gunzip') {
  const gunzipMs = [];
  const cpuMs = [];
  let bytes = 0;
  for (const blob of rest) {
    const data = readFileSync(blob);
    const c0 = process.cpuUsage();
    const t0 = now();
    bytes += gunzipSync(data).length;
    gunzipMs.push(now() - t0);
    const c1 = process.cpuUsage(c0);
    cpuMs.push((c1.user + c1.system) / 1000);
  }
  process.stdout.write(JSON.stringify({ gunzipMs, cpuMs, bytes }) + '\n');
} else if (mode === '--open') {
  const c0 = process.cpuUsage();
  const t0 = now();
  const image = await loadImage(rest[0], { verify: rest[1] === 'true', concurrency: Number(rest[2]) });
  const openMs = now() - t0;
  const c1 = process.cpuUsage(c0);
  const cpuMs = (c1.user + c1.system) / 1000;
  const entries = image.layers.reduce((s, l) => s + l.entries.length, 0);
  image.close();
  process.stdout.write(JSON.stringify({ openMs, cpuMs, entries, layers: image.layers.length }) + '\n');
} else {
  throw new Error(`unknown mode ${mode}`);
}
