/**
 * NODE-FS: fs.ReadStream / fs.WriteStream and their factories, on Node's fs and on layerfs (see
 * fs/node-suite.ts): construction without `new`, the old subclassing way (graceful-fs), what a
 * path or options argument may be, and options inherited through the prototype.
 */
import test from 'ava';
import { Buffer } from 'node:buffer';
import nodeFsDefault from 'node:fs';
import type * as nodeFs from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { inherits } from 'node:util';
import { norm } from './fs/compare.js';
import { nodeTest } from './fs/node-suite.js';
import { memfsSide, unionSide, type Side } from './fs/sides.js';

type Fs = typeof import('node:fs');
type Stream = Readable | Writable;

/** The events of a stream until 'close', chunks as text. */
function events(side: Side, stream: Stream): Promise<unknown[]> {
  const seen: unknown[] = [];
  return new Promise((resolve) => {
    stream.on('open', (fd: unknown) => seen.push(['open', typeof fd]));
    stream.on('ready', () => seen.push('ready'));
    stream.on('data', (c: Buffer | string) => seen.push(['data', Buffer.isBuffer(c) ? c.toString('latin1') : `string:${c}`]));
    stream.on('end', () => seen.push('end'));
    stream.on('finish', () => seen.push('finish'));
    stream.on('error', (e) => seen.push(['error', norm(e, side.root)]));
    stream.on('close', () => {
      seen.push('close');
      resolve(seen);
    });
  });
}

/** What a constructed object is. */
function kind(s: unknown, fs: Fs): unknown {
  return {
    readStream: s instanceof fs.ReadStream,
    writeStream: s instanceof fs.WriteStream,
    readable: s instanceof Readable,
    writable: s instanceof Writable,
  };
}

nodeTest('ReadStream and WriteStream are callable without new', async ({ side, p, note }) => {
  const fs = side.fs as Fs;
  fs.writeFileSync(p('f'), 'abcdef');
  const RS = fs.ReadStream as unknown as (path: string, o?: unknown) => nodeFs.ReadStream;
  const WS = fs.WriteStream as unknown as (path: string, o?: unknown) => nodeFs.WriteStream;
  const r = RS(p('f'), { start: 1, end: 3 });
  note('read stream', kind(r, fs));
  note('read events', await events(side, r));
  const w = WS(p('g'));
  note('write stream', kind(w, fs));
  const done = events(side, w);
  w.end('written');
  note('write events', await done);
  note('written', fs.readFileSync(p('g'), 'utf8'));
});

/**
 * The graceful-fs way: a constructor function that applies fs.ReadStream to itself, util.inherits,
 * and an open() of its own that the stream calls instead of opening through options.fs.
 */
nodeTest('ReadStream and WriteStream are subclassable the old way (util.inherits, Base.call(this))', async ({ side, p, note }) => {
  const fs = side.fs as Fs;
  fs.writeFileSync(p('f'), 'old style');
  const opened: string[] = [];
  function MyRead(this: any, path: string, options?: unknown): any {
    if (!(this instanceof MyRead)) return new (MyRead as any)(path, options);
    (fs.ReadStream as any).apply(this, [path, options]);
    return this;
  }
  inherits(MyRead, fs.ReadStream);
  MyRead.prototype.open = function open(this: any) {
    fs.open(this.path, this.flags, this.mode, (err, fd) => {
      if (err) {
        if (this.autoClose) this.destroy();
        this.emit('error', err);
      } else {
        opened.push('read');
        this.fd = fd;
        this.emit('open', fd);
        this.read();
      }
    });
  };
  function MyWrite(this: any, path: string, options?: unknown): any {
    if (!(this instanceof MyWrite)) return new (MyWrite as any)(path, options);
    (fs.WriteStream as any).call(this, path, options);
    return this;
  }
  inherits(MyWrite, fs.WriteStream);
  MyWrite.prototype.open = function open(this: any) {
    fs.open(this.path, this.flags, this.mode, (err, fd) => {
      if (err) {
        this.destroy();
        this.emit('error', err);
      } else {
        opened.push('write');
        this.fd = fd;
        this.emit('open', fd);
      }
    });
  };
  const r = new (MyRead as any)(p('f'), { highWaterMark: 4 });
  note('read kind', [r instanceof MyRead, kind(r, fs)]);
  note('read events', await events(side, r));
  const r2 = (MyRead as any)(p('missing'));
  note('read missing', await events(side, r2));
  const w = (MyWrite as any)(p('g'), { flags: 'w' });
  note('write kind', [w instanceof MyWrite, kind(w, fs)]);
  const done = events(side, w);
  w.write('one ');
  w.end('two');
  note('write events', await done);
  note('written', fs.readFileSync(p('g'), 'utf8'));
  note('own open() called', opened);
  // The class syntax works too.
  const Base = fs.ReadStream as unknown as new (path: string, options?: unknown) => nodeFs.ReadStream;
  class Sub extends Base {}
  const s = new Sub(p('f'), { start: 4 });
  note('class extends', [s instanceof Sub, kind(s, fs), await events(side, s)]);
});

const badPaths: unknown[] = [123, true, false, null, undefined, {}, [], 1.5];
const badOptions: unknown[] = [123, 0, true, false, Symbol('s'), 1n];
const fineOptions: unknown[] = [undefined, null, 'utf8', { encoding: 'utf8' }, () => {}];

nodeTest(
  'createReadStream/createWriteStream refuse a number or boolean path or options with ERR_INVALID_ARG_TYPE',
  async ({ side, p, note }) => {
    const fs = side.fs as Fs;
    fs.writeFileSync(p('f'), 'x');
    const attempt = (label: string, make: () => Stream) => {
      try {
        const s = make();
        note(label, 'made');
        s.destroy();
      } catch (e) {
        note(label, [norm(e, side.root), String(e)]);
      }
    };
    for (const path of badPaths) {
      const shown = typeof path === 'object' && path ? JSON.stringify(path) : String(path);
      attempt(`createReadStream(${shown})`, () => fs.createReadStream(path as string));
      attempt(`createWriteStream(${shown})`, () => fs.createWriteStream(path as string));
      attempt(`ReadStream(${shown})`, () => new (fs.ReadStream as unknown as new (p: unknown) => Stream)(path));
    }
    for (const o of [...badOptions, ...fineOptions]) {
      const shown = typeof o === 'function' ? 'function' : typeof o === 'bigint' ? `${o}n` : typeof o === 'symbol' ? 'symbol' : (JSON.stringify(o) ?? String(o));
      attempt(`createReadStream(f, ${shown})`, () => fs.createReadStream(p('f'), o as never));
      attempt(`createWriteStream(g, ${shown})`, () => fs.createWriteStream(p('g'), o as never));
    }
    attempt('createReadStream(f, { encoding: "nope" })', () => fs.createReadStream(p('f'), { encoding: 'nope' as never }));
    attempt('createReadStream(f, { fd: "3" })', () => fs.createReadStream(p('f'), { fd: '3' as never }));
    await new Promise((resolve) => setImmediate(resolve));
    // (Whether a write stream destroyed at once got to create its file is a race: no tree.)
  },
  { tree: false },
);

nodeTest('stream options inherited through the prototype are honoured', async ({ side, p, note }) => {
  const fs = side.fs as Fs;
  fs.writeFileSync(p('f'), 'abcdefghij');
  const r = fs.createReadStream(p('f'), Object.create({ encoding: 'utf8', start: 2, end: 7, highWaterMark: 2 }));
  note('read', await events(side, r));
  note('string inherited encoding', await events(side, fs.createReadStream(p('f'), Object.create({ encoding: 'hex' }))));
  const fd = fs.openSync(p('f'), 'r');
  note('fd', await events(side, fs.createReadStream('ignored', Object.create({ fd, start: 8 }))));
  const w = fs.createWriteStream(p('f'), Object.create({ flags: 'a', encoding: 'latin1' }));
  const done = events(side, w);
  w.end('+more');
  note('write', await done);
  note('content', fs.readFileSync(p('f'), 'utf8'));
  note(
    'bad inherited encoding',
    (() => {
      try {
        fs.createReadStream(p('f'), Object.create({ encoding: 'nope' }));
        return 'made';
      } catch (e) {
        return norm(e, side.root);
      }
    })(),
  );
});

/**
 * fs.ReadStream is assignable and createReadStream then makes the new class (Node keeps the class
 * in a variable behind a setter). Node's own fs is changed only for the span of one synchronous
 * block, before the other tests of this file start.
 */
test.serial('NODE-FS createReadStream/createWriteStream make whatever fs.ReadStream/fs.WriteStream is now', (t) => {
  const results: unknown[] = [];
  const real = nodeFsDefault as unknown as Record<string, unknown>;
  for (const fs of [real, memfsSide().fs as unknown as Record<string, unknown>, unionSide().fs as unknown as Record<string, unknown>]) {
    const [R, W] = [fs.ReadStream, fs.WriteStream] as Array<new (...a: unknown[]) => Readable>;
    class MyR extends R {}
    class MyW extends W {}
    let made: Stream[];
    try {
      fs.ReadStream = MyR;
      fs.WriteStream = MyW;
      made = [(fs.createReadStream as (p: string) => Stream)('/nonexistent-ignored'), (fs.createWriteStream as (p: string) => Stream)('/nonexistent-dir/x')];
    } finally {
      fs.ReadStream = R;
      fs.WriteStream = W;
    }
    for (const s of made) {
      s.on('error', () => {});
      s.destroy();
    }
    results.push([made[0] instanceof MyR, made[1] instanceof MyW, fs.ReadStream === R]);
  }
  t.deepEqual(results[1], results[0]);
  t.deepEqual(results[2], results[0]);
});
