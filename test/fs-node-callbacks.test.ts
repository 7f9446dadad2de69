/**
 * NODE-FS: the callback API's argument order and calling convention, and fs members Node's own
 * tests use (found by scripts/node-fs-tests.mjs; see docs/node-fs-tests.md), each run on Node's
 * fs and on layerfs (see fs/node-suite.ts):
 * - access, chmod, copyFile, fchmod, fchown, ftruncate, futimes, open, read, readv, truncate,
 *   write and writev check (some of) their other arguments before the callback (test-fs-read,
 *   test-fs-fchmod, test-fs-fchown, test-fs-truncate); rm does not check its callback at all;
 * - callbacks are called with `this` undefined, not on an Immediate (test-fs-statfs);
 * - fs.createReadStream and fs.createWriteStream are plain functions: `new` works (test-fs-read-stream);
 * - FileHandle methods on another receiver reject with ERR_INTERNAL_ASSERTION (test-fs-promises);
 * - promises.open resolves in a later turn, so a nextTick abort is seen by the handle's next call
 *   (test-fs-promises-file-handle-writeFile);
 * - fs._toUnixTimestamp (test-fs-utimes, test-fs-timestamp-parsing-error).
 */
import { Buffer } from 'node:buffer';
import * as nodeFs from 'node:fs';
import { Readable } from 'node:stream';
import { nodeTest } from './fs/node-suite.js';
import { thrown } from './fs/compare.js';

type AnyFn = (...args: unknown[]) => unknown;
type Fs = Record<string, AnyFn> & { promises: Record<string, AnyFn> };

const BAD = [Symbol('bad'), 'str', -1.5, {}, Number.POSITIVE_INFINITY, false];

nodeTest(
  'callback calls check their arguments before the callback as Node 20 does (access, chmod, copyFile, fchmod, fchown, ftruncate, futimes, open, read, readv, truncate, write, writev; and the ones that check the callback first)',
  ({ side, note, p }) => {
    const fs = side.fs as unknown as Fs;
    const missing = p('missing');
    const good: Record<string, unknown> = {
      path: missing,
      fd: 2 ** 31 - 1,
      mode: 0o644,
      uid: 0,
      gid: 0,
      time: 0,
      options: {},
      data: 'x',
      flags: 'r',
      buffer: Buffer.alloc(4),
      offset: 0,
      length: 1,
      position: 0,
      buffers: [Buffer.alloc(1)],
      len: 0,
      type: 'file',
    };
    const sigs: Record<string, string[]> = {
      access: ['path', 'mode'],
      chmod: ['path', 'mode'],
      chown: ['path', 'uid', 'gid'],
      copyFile: ['path', 'path', 'mode'],
      fchmod: ['fd', 'mode'],
      fchown: ['fd', 'uid', 'gid'],
      fstat: ['fd', 'options'],
      ftruncate: ['fd', 'len'],
      futimes: ['fd', 'time', 'time'],
      link: ['path', 'path'],
      mkdir: ['path', 'options'],
      open: ['path', 'flags', 'mode'],
      read: ['fd', 'buffer', 'offset', 'length', 'position'],
      readv: ['fd', 'buffers', 'position'],
      rename: ['path', 'path'],
      stat: ['path', 'options'],
      truncate: ['path', 'len'],
      unlink: ['path'],
      utimes: ['path', 'time', 'time'],
      write: ['fd', 'buffer', 'offset', 'length', 'position'],
      writev: ['fd', 'buffers', 'position'],
    };
    for (const [name, sig] of Object.entries(sigs)) {
      note(
        `${name} good, no callback`,
        thrown(() => fs[name](...sig.map((k) => good[k]))),
      );
      for (let i = 0; i < sig.length; i++) {
        for (const bad of BAD) {
          const args = sig.map((k, j) => (j === i ? bad : good[k]));
          note(
            `${name} ${i}=${String(bad)}, no callback`,
            thrown(() => fs[name](...args)),
          );
          note(
            `${name} ${i}=${String(bad)}, callback 1`,
            thrown(() => fs[name](...args, 1)),
          );
        }
      }
    }
    // rm checks the path and the options, never the callback (a missing one fails later).
    for (const bad of BAD) {
      // (A string is a path: rm would go on, and fail later calling the missing callback.)
      if (typeof bad !== 'string')
        note(
          `rm path ${String(bad)}`,
          thrown(() => fs.rm(bad)),
        );
      if (typeof bad !== 'object')
        note(
          `rm options ${String(bad)}`,
          thrown(() => fs.rm(missing, bad)),
        );
    }
  },
  { tree: false },
);

nodeTest('callbacks are called with this undefined (stat, lstat, statfs, exists, access, readFile, writeFile, mkdir, readdir, rename, unlink)', async ({ side, note, p }) => {
  const fs = side.fs as unknown as Fs;
  fs.writeFileSync(p('f'), 'data');
  const thisOf = (name: string, ...args: unknown[]) =>
    new Promise<void>((resolve) => {
      fs[name](...args, function (this: unknown, ...results: unknown[]) {
        note(`${name} this`, this === undefined ? 'undefined' : typeof this);
        note(`${name} error`, results[0] instanceof Error ? (results[0] as Error & { code: string }).code : results[0]);
        resolve();
      });
    });
  await thisOf('stat', p('f'));
  await thisOf('lstat', p('missing'));
  await thisOf('statfs', p('f'));
  await thisOf('exists', p('f'));
  await thisOf('access', p('f'));
  await thisOf('readFile', p('f'));
  await thisOf('writeFile', p('g'), 'g');
  await thisOf('mkdir', p('d'));
  await thisOf('readdir', p('d'));
  await thisOf('rename', p('g'), p('h'));
  await thisOf('unlink', p('h'));
});

nodeTest('createReadStream and createWriteStream are plain functions: called with new they make the stream', async ({ side, note, p }) => {
  const fs = side.fs as unknown as Fs;
  fs.writeFileSync(p('f'), 'abc');
  const Create = fs.createWriteStream as unknown as new (path: string, o?: object) => NodeJS.WritableStream;
  const ws = new Create(p('g'));
  await new Promise<void>((resolve) => ws.end('written', () => resolve()));
  const Read = fs.createReadStream as unknown as new (path: string, o?: object) => NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  for await (const c of new Read(p('f'), { end: 1 })) chunks.push(c as Buffer);
  note('read', Buffer.concat(chunks).toString());
  note('names', [fs.createReadStream.name, fs.createWriteStream.name, fs.createReadStream.length]);
});

nodeTest(
  'FileHandle methods called on another receiver reject with ERR_INTERNAL_ASSERTION',
  async ({ side, note, p }) => {
    const fs = side.fs as unknown as Fs;
    fs.writeFileSync(p('f'), 'abc');
    const h = (await fs.promises.open(p('f'), 'r+')) as Record<string, AnyFn> & { close(): Promise<void> };
    for (const m of ['read', 'write', 'readv', 'writev', 'readFile', 'writeFile', 'appendFile', 'stat', 'truncate', 'chmod', 'chown', 'utimes', 'sync', 'datasync']) {
      let outcome: unknown;
      try {
        outcome = await (h[m].call({}) as Promise<unknown>).then(
          () => 'resolved',
          (e: Error & { code?: string }) => ({ rejected: e.code, name: e.name, message: e.message }),
        );
      } catch (e) {
        outcome = { threw: (e as Error).message };
      }
      note(m, outcome);
    }
    await h.close();
  },
  { tree: false },
);

nodeTest('promises.open resolves in a later turn: an abort from process.nextTick reaches the handle writeFile of an ended stream', async ({ side, note, p }) => {
  const fs = side.fs as unknown as Fs;
  const stream = Readable.from(['a', 'b', 'c']);
  const first = (await fs.promises.open(p('first'), 'w+')) as { writeFile(d: unknown, o?: object): Promise<void>; close(): Promise<void> };
  await first.writeFile(stream);
  await first.close();
  const controller = new AbortController();
  process.nextTick(() => controller.abort());
  const h = (await fs.promises.open(p('second'), 'w+')) as { writeFile(d: unknown, o?: object): Promise<void>; close(): Promise<void> };
  note('aborted once open resolved', controller.signal.aborted);
  note(
    'writeFile',
    await h.writeFile(stream, { signal: controller.signal }).then(
      () => 'resolved',
      (e: Error) => e.name,
    ),
  );
  await h.close();
});

nodeTest(
  'fs._toUnixTimestamp converts numeric strings, seconds and Dates, and refuses the rest',
  ({ side, note }) => {
    const fs = side.fs as unknown as Fs;
    const t = fs._toUnixTimestamp;
    note('name', [typeof t, t.name, t.length]);
    note('values', [t('12'), t(' 7 '), t(1.5), t(new Date(1500)), t(0)]);
    note('negative is now', (t(-1) as number) > 1e9);
    for (const bad of [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, {}, 'x', null, undefined])
      note(
        `refuses ${String(bad)}`,
        thrown(() => t(bad)),
      );
    note(
      'named',
      thrown(() => t({}, 'mtime')),
    );
  },
  { tree: false },
);

nodeTest(
  'descriptor checks: close, fstat, fsync, fdatasync, ftruncate, fchmod, fchown and futimes check the range before integer-ness (Node C++ layer), read, write, readv and writev integer-ness first',
  ({ side, note }) => {
    // Node's own functions on the real side: the side's guard would remember the bad numbers
    // given to close as closed descriptors. None of them reaches the kernel (all are refused).
    const fs = (side.name === 'real' ? nodeFs : side.fs) as unknown as Fs;
    const calls: Record<string, unknown[]> = {
      close: [],
      fchmod: [0o644],
      fchown: [0, 0],
      fdatasync: [],
      fsync: [],
      fstat: [],
      ftruncate: [0],
      futimes: [0, 0],
      read: [Buffer.alloc(2), 0, 1, 0],
      readv: [[Buffer.alloc(1)]],
      write: [Buffer.alloc(2)],
      writev: [[Buffer.alloc(1)]],
    };
    const never = () => {};
    for (const [name, rest] of Object.entries(calls)) {
      for (const fd of [-1.5, -1, 2 ** 31, 1.5, -0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '1']) {
        note(
          `${name}Sync ${String(fd)}`,
          thrown(() => fs[`${name}Sync`](fd, ...rest)),
        );
        note(
          `${name} ${String(fd)}`,
          thrown(() => fs[name](fd, ...rest, never)),
        );
      }
    }
  },
  { tree: false },
);
