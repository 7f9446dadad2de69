/**
 * Run in a child process by bench/load.ts, so that its peak RSS is the cost of opening one image:
 *   tsx bench/load-child.ts LAYER_PATH   → openLayers; one JSON line on stdout
 *   tsx bench/load-child.ts --oci DIR / --oci-no-verify DIR → openImage with verify true / false
 *   tsx bench/load-child.ts --baseline   → the same process without opening anything (Node + tsx + imports)
 * Times: open (index the layer: decompress, hash, build the tree), the first readdir of `/` (from the
 * start of the open), and a full listing (every entry walked through the fs API).
 */
import { openImage, openLayers } from '../src/index.js';

const arg = process.argv[2];
if (arg === '--baseline') {
  process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }) + '\n');
} else {
  const t0 = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
  const view = arg === '--oci' || arg === '--oci-no-verify'
    ? await openImage(process.argv[3], { verify: arg === '--oci' })
    : await openLayers([arg]);
  const openMs = ms();
  const top = view.fs.readdirSync('/');
  const firstReaddirMs = ms();
  let entries = 0;
  const walk = (dir: string) => {
    for (const d of view.fs.readdirSync(dir, { withFileTypes: true })) {
      entries++;
      if (d.isDirectory()) walk(dir === '/' ? `/${d.name}` : `${dir}/${d.name}`);
    }
  };
  walk('/');
  const listMs = ms();
  view.close();
  process.stdout.write(JSON.stringify({ openMs, firstReaddirMs, listMs, entries, topEntries: top.length, maxRssKiB: process.resourceUsage().maxRSS }) + '\n');
}
