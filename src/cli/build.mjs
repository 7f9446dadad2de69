// `npm run build:cli`, after tsc: bundles the command line (dist/cli/main.js and what it imports
// from dist/) with esbuild into dist/cli/bundle/, which bin/layerfs.js runs. Node 20 pays about a
// millisecond per ES module it resolves and loads; a command loaded ~90 of them (bench figures 4
// and 5). Rules:
// - Code splitting keeps every dynamic import() lazy: a command's chunk loads when it runs.
// - npm packages stay imports (`packages: 'external'`), resolved from node_modules as before.
// - The chunks sit three folders below the package root, as dist/x/y/*.js do, so the modules'
//   `new URL('../../../…', import.meta.url)` (the page, package.json, the sample image) still hold.
// - meta.json maps each chunk to its dist/ modules (test/helpers/trace-imports.mjs reads it).
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const out = here('../../dist/cli/bundle/');
rmSync(out, { recursive: true, force: true });
const r = await build({
  absWorkingDir: here('../../'),
  entryPoints: { main: here('../../dist/cli/main.js') },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  outdir: out,
  chunkNames: 'chunk-[hash]',
  // --debug turns source maps on: the chunks map to dist/'s, which map to src/.
  sourcemap: 'linked',
  logLevel: 'warning',
  metafile: true,
});
const chunks = Object.fromEntries(
  Object.entries(r.metafile.outputs)
    .filter(([f]) => f.endsWith('.js'))
    .map(([f, o]) => [f.split('/').pop(), Object.keys(o.inputs)]),
);
writeFileSync(out + 'meta.json', JSON.stringify(chunks, null, 1));
process.stderr.write(`build:cli dist/cli/bundle/: ${Object.keys(chunks).length} chunks\n`);
