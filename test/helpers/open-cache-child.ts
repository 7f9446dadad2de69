/**
 * Run by test/open-cache-crash.test.ts: opens an image with an
 * open cache and stops dead at one point of writing the cache entry, chosen from the writer's own
 * progress: `mid-spill` after the first MiB of stored bytes decompressed, or a CacheStep. It prints
 * `at <point>` and then waits to be killed (SIGKILL), so the kill lands exactly there.
 *   tsx open-cache-child.ts CACHE_DIR POINT IMAGE
 */
import { stopHere } from './child.js';
import { OpenCache, type CacheStep } from '../../src/image/cache/open-cache.js';
import { loadImage } from '../../src/image/index.js';

const [dir, point, path] = process.argv.slice(2);
const cache = new OpenCache(dir);
const stop = stopHere;
cache.onStep = (step: CacheStep) => {
  if (step === point) stop(step);
};
const onProgress = (done: number): void => {
  if (point === 'mid-spill' && done >= 1 << 20) stop('mid-spill');
};
const img = await loadImage(path, { cache, onProgress });
img.close();
process.stdout.write('finished\n');
