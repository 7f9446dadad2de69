/** The operations and strategies `layerfs bench` knows (here, so its --help loads no engine). */
import type { CopyUpStrategy } from '../union/state.js';

export type BenchOp = 'write' | 'chmod' | 'append' | 'truncate';
export const BENCH_OPS: readonly BenchOp[] = ['write', 'chmod', 'append', 'truncate'];
export const BENCH_STRATEGIES: readonly CopyUpStrategy[] = ['full', 'metadata', 'chunked'];
