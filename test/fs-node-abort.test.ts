/**
 * NODE-FS: readFile / writeFile / appendFile and an AbortSignal, on Node's fs and on layerfs (see
 * fs/node-suite.ts). Each form (callback, promise, FileHandle method) is started, then the signal
 * is aborted right after the call, in a nextTick, or was aborted before; what the call reports,
 * whether its callback came before it returned, and the files afterwards must be Node's. A signal
 * that is not an AbortSignal is Node's ERR_INVALID_ARG_TYPE, in every form.
 */
import { Buffer } from 'node:buffer';
import { cut, norm } from './fs/compare.js';
import { nodeTest } from './fs/node-suite.js';
import type { Side } from './fs/sides.js';

type Fs = typeof import('node:fs');
type Cb = (err: unknown, result?: unknown) => void;
type When = 'right after the call' | 'in a nextTick' | 'before the call';
const WHEN: When[] = ['right after the call', 'in a nextTick', 'before the call'];

/** An error or result, with an AbortError's cause shown. */
function shown(side: Side, err: unknown, result?: unknown): unknown {
  if (!err) return { ok: norm(result, side.root) };
  const e = err as Error & { cause?: unknown };
  const cause = e.cause instanceof Error ? { name: e.cause.name, message: e.cause.message } : e.cause;
  return { err: norm(e, side.root), name: e.name, string: cut(String(e), side.root), cause };
}

/** A controller for `when`, and what to do right after the call. */
function signalFor(when: When): { signal: AbortSignal; after(): void } {
  const ac = new AbortController();
  if (when === 'before the call') ac.abort('aborted before');
  return {
    signal: ac.signal,
    after: () => {
      if (when === 'right after the call') ac.abort();
      if (when === 'in a nextTick') process.nextTick(() => ac.abort());
    },
  };
}

/** A callback call: its outcome, and whether the callback came before the call returned. */
function viaCallback(side: Side, when: When, start: (signal: AbortSignal, cb: Cb) => void): Promise<unknown> {
  const { signal, after } = signalFor(when);
  return new Promise((resolve) => {
    let returned = false;
    start(signal, (err, result) => resolve([returned ? 'called back later' : 'called back before returning', shown(side, err, result)]));
    returned = true;
    after();
  });
}

async function viaPromise(side: Side, when: When, start: (signal: AbortSignal) => Promise<unknown>): Promise<unknown> {
  const { signal, after } = signalFor(when);
  const promise = start(signal);
  after();
  try {
    return shown(side, null, await promise);
  } catch (e) {
    return shown(side, e);
  }
}

const content = (fs: Fs, path: string): unknown => (fs.existsSync(path) ? fs.readFileSync(path, 'latin1') : 'missing');

nodeTest('readFile honours an AbortSignal aborted after the call, in a nextTick or before (callback, promise, FileHandle)', async ({ side, p, note }) => {
  const fs = side.fs as Fs;
  fs.writeFileSync(p('f'), 'hello');
  fs.writeFileSync(p('big'), Buffer.alloc(3 * 1024 * 1024, 7));
  for (const when of WHEN) {
    for (const file of ['f', 'big']) {
      note(`callback ${file}, ${when}`, await viaCallback(side, when, (signal, cb) => fs.readFile(p(file), { signal, encoding: 'latin1' }, cb)));
      note(`promise ${file}, ${when}`, await viaPromise(side, when, (signal) => fs.promises.readFile(p(file), { signal })));
      const h = await fs.promises.open(p(file), 'r');
      note(`FileHandle ${file}, ${when}`, await viaPromise(side, when, (signal) => h.readFile({ signal, encoding: 'latin1' })));
      await h.close();
    }
    // A descriptor of the caller's: Node reports no error from callback readFile (an empty result).
    const fd = fs.openSync(p('f'), 'r');
    note(`callback on a descriptor, ${when}`, await viaCallback(side, when, (signal, cb) => fs.readFile(fd, { signal }, cb)));
    fs.closeSync(fd);
    note(`callback of a missing file, ${when}`, await viaCallback(side, when, (signal, cb) => fs.readFile(p('missing'), { signal }, cb)));
  }
});

nodeTest('writeFile and appendFile honour an AbortSignal aborted after the call, in a nextTick or before (callback, promise, FileHandle)', async ({ side, p, note }) => {
  const fs = side.fs as Fs;
  for (const when of WHEN) {
    const tag = when.replaceAll(' ', '-');
    note(`callback writeFile, ${when}`, await viaCallback(side, when, (signal, cb) => fs.writeFile(p(`cb-${tag}`), 'data', { signal }, cb)));
    note(`callback appendFile, ${when}`, await viaCallback(side, when, (signal, cb) => fs.appendFile(p(`cba-${tag}`), 'data', { signal }, cb)));
    note(`promise writeFile, ${when}`, await viaPromise(side, when, (signal) => fs.promises.writeFile(p(`p-${tag}`), 'data', { signal })));
    note(`promise appendFile, ${when}`, await viaPromise(side, when, (signal) => fs.promises.appendFile(p(`pa-${tag}`), 'data', { signal } as never)));
    const chunks = async function* gen() {
      yield 'one ';
      yield Buffer.from('two');
    };
    note(`promise writeFile of an iterable, ${when}`, await viaPromise(side, when, (signal) => fs.promises.writeFile(p(`pi-${tag}`), chunks(), { signal })));
    note(`promise writeFile of 2 MiB, ${when}`, await viaPromise(side, when, (signal) => fs.promises.writeFile(p(`pb-${tag}`), Buffer.alloc(2 * 1024 * 1024, 1), { signal })));
    const h = await fs.promises.open(p(`h-${tag}`), 'w+');
    note(`FileHandle writeFile, ${when}`, await viaPromise(side, when, (signal) => h.writeFile('data', { signal })));
    await h.close();
    const fd = fs.openSync(p(`fd-${tag}`), 'w');
    note(`callback writeFile on a descriptor, ${when}`, await viaCallback(side, when, (signal, cb) => fs.writeFile(fd, 'data', { signal }, cb)));
    fs.closeSync(fd);
  }
  for (const name of fs.readdirSync(p('')).sort()) note(`content of ${name}`, (content(fs, p(name)) as string).length);
});

nodeTest('a signal that is not an AbortSignal is ERR_INVALID_ARG_TYPE in every form', async ({ side, p, note }) => {
  const fs = side.fs as Fs;
  fs.writeFileSync(p('f'), 'x');
  const h = await fs.promises.open(p('f'), 'r+');
  for (const signal of [1, 'x', {}, null, true]) {
    const label = JSON.stringify(signal);
    const sync = (name: string, fn: () => unknown) => {
      try {
        fn();
        note(`${name} ${label}`, 'no error');
      } catch (e) {
        note(`${name} ${label}`, ['thrown', shown(side, e)]);
      }
    };
    const later = async (name: string, fn: () => Promise<unknown>) => note(`${name} ${label}`, await viaPromise(side, 'in a nextTick', fn));
    sync('readFileSync', () => fs.readFileSync(p('f'), { signal } as never));
    sync('writeFileSync', () => fs.writeFileSync(p('f'), 'x', { signal } as never));
    sync('appendFileSync', () => fs.appendFileSync(p('f'), 'x', { signal } as never));
    sync('readdirSync', () => fs.readdirSync(p(''), { signal } as never));
    sync('readFile', () => fs.readFile(p('f'), { signal } as never, () => {}));
    sync('writeFile', () => fs.writeFile(p('f'), 'x', { signal } as never, () => {}));
    sync('appendFile', () => fs.appendFile(p('f'), 'x', { signal } as never, () => {}));
    await later('promises.readFile', () => fs.promises.readFile(p('f'), { signal } as never));
    await later('promises.writeFile', () => fs.promises.writeFile(p('f'), 'x', { signal } as never));
    await later('FileHandle.readFile', () => h.readFile({ signal } as never));
    await later('FileHandle.writeFile', () => h.writeFile('x', { signal } as never));
  }
  await h.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
});
