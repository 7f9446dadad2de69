/** Every command of `layerfs`: each group registers its commands on the program. */
import type { Command } from 'commander';
import { registerDemo } from './demo.js';
import { registerExplore } from './explore.js';
import { registerRegistry } from './registry.js';
import { registerRun } from './run.js';

export type Register = (program: Command) => void;

export const commands: Register[] = [registerExplore, registerRun, registerDemo, registerRegistry];
