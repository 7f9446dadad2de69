/**
 * NODE-FS: fs.watchFile and fs.unwatchFile (Node's StatWatcher over libuv's uv_fs_poll), on Node's
 * fs and on layerfs (see fs/node-suite.ts): a missing file is reported once with zeroed stats,
 * then its creation, its changes and its removal, each as (curr, prev); one watcher per path;
 * unwatchFile stops it and 'stop' comes on the next tick; the arguments are checked as Node's.
 * Node tests: test-fs-watch-file-enoent-after-deletion, test-fs-watch-stop-async,
 * test-fs-watch-stop-sync, test-fs-watchfile-ref-unref (and test-fs-watchfile up to its fs.watch).
 */
import { constants } from 'node:fs';
import { nodeTest } from './fs/node-suite.js';
import { thrown } from './fs/compare.js';

type Watcher = import('node:events').EventEmitter & { stop(): void; ref(): Watcher; unref(): Watcher };
type StatLike = { size: number | bigint; nlink: number | bigint; mode: number | bigint; ino: number | bigint; mtimeMs: number | bigint; mtime: Date; isFile(): boolean };
type WatchFs = {
  watchFile(path: string, options: object | ((c: StatLike, p: StatLike) => void), listener?: (c: StatLike, p: StatLike) => void): Watcher;
  unwatchFile(path: string, listener?: (c: StatLike, p: StatLike) => void): void;
  writeFileSync(path: string, data: string): void;
  appendFileSync(path: string, data: string): void;
  unlinkSync(path: string): void;
};

/** The fields of a watcher's Stats that both sides share (no inode numbers or times, only whether they are set). */
function shown(s: StatLike): unknown {
  return {
    type: typeof s.size,
    size: Number(s.size),
    nlink: Number(s.nlink),
    format: Number(s.mode) & constants.S_IFMT,
    file: s.isFile(),
    ino: Number(s.ino) > 0,
    mtimeSet: Number(s.mtimeMs) > 0,
    epoch: s.mtime.getTime() === 0,
  };
}

for (const bigint of [false, true]) {
  nodeTest(`watchFile reports a missing file once with zeroed stats, then its creation, change, removal and re-creation as (curr, prev)${bigint ? ' (bigint)' : ''}`, async ({ side, note, p }) => {
    const fs = side.fs as unknown as WatchFs;
    const file = p('watched');
    const steps: Array<() => void> = [
      () => fs.writeFileSync(file, 'abc'),
      () => fs.appendFileSync(file, 'def'),
      () => fs.unlinkSync(file),
      // Made again: prev is the last good stat (libuv keeps it through the failures), not zeros.
      () => fs.writeFileSync(file, 'x'),
      () => fs.unwatchFile(file),
    ];
    await new Promise<void>((resolve) => {
      let n = 0;
      const w = fs.watchFile(file, { interval: 5, bigint }, (curr, prev) => {
        note(`change ${n}`, { curr: shown(curr), prev: shown(prev) });
        steps[n++]();
      });
      w.on('stop', () => {
        note('stop after', n);
        resolve();
      });
    });
  });
}

nodeTest('watchFile keeps one watcher per path: a second listener shares it, unwatchFile(path, listener) removes that one, the last one stops it on the next tick', async ({ side, note, p }) => {
  const fs = side.fs as unknown as WatchFs;
  fs.writeFileSync(p('f'), 'x');
  const a = () => {};
  const b = () => {};
  const w1 = fs.watchFile(p('f'), a);
  const w2 = fs.watchFile(p('f'), { interval: 20 }, b);
  note('same watcher', w1 === w2);
  note('listeners', w1.listenerCount('change'));
  fs.unwatchFile(p('f'), () => {});
  note('a listener it does not have', w1.listenerCount('change'));
  fs.unwatchFile(p('missing'));
  w1.unref().unref().ref();
  fs.unwatchFile(p('f'), a);
  note('after removing a', w1.listenerCount('change'));
  const order: string[] = [];
  w1.on('stop', () => order.push('stop'));
  fs.unwatchFile(p('f'), b);
  order.push('returned');
  await new Promise((resolve) => setImmediate(resolve));
  note('order', order);
  const w3 = fs.watchFile(p('f'), a);
  note('a new watcher after the last unwatch', w3 !== w1);
  w3.stop();
  w3.stop();
  fs.unwatchFile(p('f'));
});

nodeTest(
  'watchFile checks the path, the listener and the interval as Node does',
  ({ side, note, p }) => {
    const fs = side.fs as unknown as Record<'watchFile' | 'unwatchFile', (...args: unknown[]) => unknown>;
    note(
      'no listener',
      thrown(() => fs.watchFile(p('f'))),
    );
    note(
      'options, no listener',
      thrown(() => fs.watchFile(p('f'), { interval: 5 })),
    );
    note(
      'listener not a function',
      thrown(() => fs.watchFile(p('f'), { interval: 5 }, 'x')),
    );
    note(
      'bad path',
      thrown(() => fs.watchFile(123, () => {})),
    );
    note(
      'negative interval',
      thrown(() => fs.watchFile(p('f'), { interval: -1 }, () => {})),
    );
    note(
      'string interval',
      thrown(() => fs.watchFile(p('f'), { interval: '5' }, () => {})),
    );
    note(
      'unwatchFile bad path',
      thrown(() => fs.unwatchFile(123)),
    );
    note('names', [fs.watchFile.name, fs.unwatchFile.name]);
  },
  { tree: false },
);
