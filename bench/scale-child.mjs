// @ts-check
/**
 * Run in a fresh process by bench/scale.ts, as users run the package (plain node over dist/):
 *   node bench/scale-child.mjs TAR    → open, list and flatten one layer; one JSON line on stdout
 *   node bench/scale-child.mjs --baseline → the same process without opening anything
 * Times from the start of the open: the open (index every header, build the tree), the first
 * readdir of `/` and a stat deep in the tree, a listing of every directory through the fs API, and
 * the flattened tree written as one tar (view.export, what `layerfs export` writes) to /dev/null.
 */
import { openLayers } from '../dist/index.js';
import { listTree } from './list-tree.mjs';

const arg = process.argv[2];
if (arg === '--baseline') {
  process.stdout.write(`${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS })}\n`);
} else {
  const deep = process.argv[3];
  const t0 = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
  const view = await openLayers([arg], { verify: false });
  const openMs = ms();
  view.fs.readdirSync('/');
  view.fs.statSync(deep);
  const firstMs = ms();
  const entries = listTree(view.fs);
  const listMs = ms() - firstMs;
  const t1 = process.hrtime.bigint();
  const written = await view.export('/dev/null');
  const flattenMs = Number(process.hrtime.bigint() - t1) / 1e6;
  view.close();
  const maxRssKiB = process.resourceUsage().maxRSS;
  process.stdout.write(`${JSON.stringify({ openMs, firstMs, listMs, flattenMs, entries, tarBytes: written.size, maxRssKiB })}\n`);
}
