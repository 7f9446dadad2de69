/** Every command of `layerfs`: each group registers its commands on the program. */
import type { Command } from 'commander';
import { registerBench } from './bench.js';
import { registerDemo } from './demo.js';
import { registerExplore } from './explore.js';
import { registerRegistry } from './registry.js';
import { registerRun } from './run.js';
import { registerServe } from './serve.js';
import { registerSystem } from './system.js';

export type Register = (program: Command) => void;

export const commands: Register[] = [registerExplore, registerRun, registerDemo, registerServe, registerSystem, registerBench, registerRegistry];
