#!/usr/bin/env node
// The `layerfs` command: the compiled CLI, run by plain node. `npm run build` writes dist/ from
// src/ (npm install and npm ci of a clone run it through the `prepare` script) and bundles the
// command line into dist/cli/bundle/ (src/cli/build.mjs).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/bundle/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('layerfs: dist/ is not built: run `npm run build` in the package directory\n');
  process.exit(1);
}
// --debug prints stacks: let them name the TypeScript sources (the bundle's maps lead to src/).
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
await import(main.href);
