// `npm run build:page`: bundles the web page (src/web/page) with esbuild into dist/web/ — index.html
// and assets/ (one JS and one CSS file, minified, with source maps). Everything the page needs is in
// the bundle: no CDN, no network at run time. Type-checking is tsc's job (tsconfig.json here).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const out = here('../../../dist/web/');
const watch = process.argv.includes('--watch');

// Only the page's own outputs are replaced: tsc compiles the server into dist/web/server/ beside them.
rmSync(out + 'assets', { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const options = {
  entryPoints: { app: here('main.tsx') },
  bundle: true,
  outdir: out + 'assets',
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: !watch,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
};
// index.html names the fixed asset paths (assets/app.js, assets/app.css); the server sends them uncached.
writeFileSync(out + 'index.html', readFileSync(here('index.html')));
if (watch) {
  const { context } = await import('esbuild');
  const ctx = await context(options);
  await ctx.watch();
  process.stderr.write('build:page watching src/web/page\n');
} else {
  const r = await build(options);
  const bytes = Object.entries(r.metafile.outputs)
    .filter(([f]) => !f.endsWith('.map'))
    .map(([f, o]) => `${f.split('/').pop()} ${(o.bytes / 1024).toFixed(1)} KiB`);
  process.stderr.write(`build:page dist/web/: index.html, ${bytes.join(', ')}\n`);
}
