// @ts-check
/**
 * Run in a child process by bench/load.ts, so that its peak RSS is the cost of opening one image
 * with the package as users run it: plain node and the compiled modules (dist/, `npm run build`).
 *   node bench/load-child.mjs LAYER_PATH   → openLayers; one JSON line on stdout
 *   node bench/load-child.mjs --oci DIR / --oci-no-verify DIR → openImage with verify true / false
 *   node bench/load-child.mjs --baseline   → the same process without opening anything (Node + modules)
 *   node bench/load-child.mjs --walk TAR   → the bare header walk in a fresh process, timed alike
 *   a trailing --again opens the image a second time in the same process: `againMs` (warm code)
 * Times: open (index the layer: decompress, hash, build the tree), the first readdir of `/` (from the
 * start of the open), and a full listing (every entry walked through the fs API).
 * JavaScript so that no TypeScript loader is in the measured process; tsconfig.json type-checks it.
 */
import { openImage, openLayers } from '../dist/index.js';
import { headerWalk } from './header-walk.mjs';
import { listTree } from './list-tree.mjs';

const arg = process.argv[2];
const again = process.argv.includes('--again');
const open = () => (arg === '--oci' || arg === '--oci-no-verify' ? openImage(process.argv[3], { verify: arg === '--oci' }) : openLayers([arg]));
if (arg === '--baseline') {
  process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }) + '\n');
} else if (arg === '--walk') {
  const t0 = process.hrtime.bigint();
  const headers = headerWalk(process.argv[3]);
  process.stdout.write(JSON.stringify({ walkMs: Number(process.hrtime.bigint() - t0) / 1e6, headers }) + '\n');
} else {
  const t0 = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
  const view = await open();
  const openMs = ms();
  const top = view.fs.readdirSync('/');
  const firstReaddirMs = ms();
  const entries = listTree(view.fs);
  const listMs = ms();
  view.close();
  const maxRssKiB = process.resourceUsage().maxRSS;
  let againMs;
  if (again) {
    const t1 = process.hrtime.bigint();
    (await open()).close();
    againMs = Number(process.hrtime.bigint() - t1) / 1e6;
  }
  process.stdout.write(JSON.stringify({ openMs, firstReaddirMs, listMs, entries, topEntries: top.length, maxRssKiB, againMs }) + '\n');
}
