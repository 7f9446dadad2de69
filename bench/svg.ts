/** The charts live in src/bench/svg.ts (the CLI's `layerfs bench --svg` draws them too). */
export * from '../src/bench/svg.js';
