/**
 * Run by test/registry-gzip-index.test.ts: opens a docker:// image lazily with the state's open
 * cache and stops dead at one point of keeping a gzip layer's index: `mid-stream` after the first
 * MiB of the streaming GET, or a CacheStep. It prints `at <point>` and waits to be killed.
 *   tsx gzi-child.ts HOME POINT REF
 */
import { stopHere } from './child.js';
import { OpenCache, type CacheStep } from '../../src/image/cache/open-cache.js';
import { loadLazy } from '../../src/registry/lazy.js';

const [home, point, ref] = process.argv.slice(2);
const cache = OpenCache.ofHome(home);
const stop = stopHere;
cache.onStep = (step: CacheStep) => {
  if (step === point) stop(step);
};
const onProgress = (done: number): void => {
  if (point === 'mid-stream' && done >= 1 << 20) stop('mid-stream');
};
const lazy = await loadLazy(ref, { home, cache, onProgress });
lazy.image.close();
process.stdout.write('finished\n');
