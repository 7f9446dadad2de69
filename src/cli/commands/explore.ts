/**
 * The explore commands (what users of dive ask for): inspect, tree, ls, cat, find, diff-images, export,
 * export-layer. Logic lives in src/explore/; these files only parse options and print.
 */
import type { Command } from 'commander';
import { registerFiles } from './explore-files.js';
import { registerInspect } from './explore-inspect.js';
import { registerLs, registerTree } from './explore-tree.js';

export function registerExplore(program: Command): void {
  registerInspect(program);
  registerTree(program);
  registerLs(program);
  registerFiles(program);
}
