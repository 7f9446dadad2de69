/**
 * Where a command reads and writes. `layerfs` runs with the process's own streams; runCli
 * (src/cli/program.ts) can run a command line in-process with streams of its own (tests,
 * embedders), each run its own context through AsyncLocalStorage, so commands say `io().stdout`
 * wherever they are and concurrent runs do not mix.
 * Rules:
 * - the exit status a command sets (setExitCode) is its run's, never another's;
 * - what a command leaves for its end (atEnd: the bytes-fetched line of a docker:// image) is
 *   written when the run ends: at the process's exit, or when runCli returns.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Readable, Writable } from 'node:stream';

export interface CliIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** The exit status set so far (undefined: 0). */
  exitCode: number | undefined;
  atEnd(fn: () => void): void;
}

/** The process itself: its streams, its environment, process.exitCode and the 'exit' event. */
const processIo: CliIo = {
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
  get stdin() {
    return process.stdin;
  },
  get env() {
    return process.env;
  },
  get exitCode() {
    return process.exitCode === undefined ? undefined : Number(process.exitCode);
  },
  set exitCode(code) {
    process.exitCode = code;
  },
  atEnd(fn) {
    process.once('exit', fn);
  },
};

const current = new AsyncLocalStorage<CliIo>();

export function io(): CliIo {
  return current.getStore() ?? processIo;
}

export function setExitCode(code: number): void {
  io().exitCode = code;
}

/** Runs `fn` with `ctx` as its io(), and every callback it schedules too. */
export function withIo<T>(ctx: CliIo, fn: () => Promise<T>): Promise<T> {
  return current.run(ctx, fn);
}
