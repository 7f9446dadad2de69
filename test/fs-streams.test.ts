/**
 * Differential tests of createReadStream / createWriteStream: the same streams on Node's fs (temp
 * directory) and on createFs(MemfsCore); the events in order (open, ready, data, end, finish,
 * error, close), the chunks, and the files afterwards must be equal.
 */
import { Buffer } from 'node:buffer';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { norm } from './fs/compare.js';
import { diff } from './fs/scenario.js';
import type { Side } from './fs/sides.js';

type Fs = typeof import('node:fs');

/** The events a stream emits until `until`, with data chunks as text and errors normalised. */
function events(side: Side, stream: Readable | Writable, until: 'close' | 'end' = 'close'): Promise<unknown[]> {
  const seen: unknown[] = [];
  return new Promise((resolve) => {
    stream.on('open', (fd: unknown) => seen.push(['open', typeof fd]));
    stream.on('ready', () => seen.push('ready'));
    stream.on('data', (chunk: Buffer | string) => seen.push(['data', Buffer.isBuffer(chunk) ? chunk.toString('latin1') : `string:${chunk}`]));
    stream.on('end', () => {
      seen.push('end');
      if (until === 'end') resolve(seen);
    });
    stream.on('finish', () => seen.push('finish'));
    stream.on('error', (e) => seen.push(['error', norm(e, side.root)]));
    stream.on('close', () => {
      seen.push('close');
      resolve(seen);
    });
  });
}

diff(
  'createReadStream: whole file, start/end, highWaterMark, encoding',
  async ({ side, p, note }) => {
    const fs = side.fs as Fs;
    fs.writeFileSync(p('f'), 'abcdefghijklmnopqrstuvwxyz');
    note('whole', await events(side, fs.createReadStream(p('f'))));
    note('start/end', await events(side, fs.createReadStream(p('f'), { start: 3, end: 9, highWaterMark: 4 })));
    note('end only', await events(side, fs.createReadStream(p('f'), { end: 2 })));
    note('start past EOF', await events(side, fs.createReadStream(p('f'), { start: 100 })));
    note('encoding (string option)', await events(side, fs.createReadStream(p('f'), 'hex')));
    note('encoding', await events(side, fs.createReadStream(p('f'), { encoding: 'utf8', start: 20 })));
    const s = fs.createReadStream(p('f'));
    note('properties before open', [s.path === p('f'), s.pending, s.bytesRead]);
    await events(side, s);
    note('properties after', [s.pending, s.bytesRead]);
  },
  ['sync'],
);

diff(
  'createReadStream: errors',
  async ({ side, p, note }) => {
    const fs = side.fs as Fs;
    fs.mkdirSync(p('d'));
    note('missing', await events(side, fs.createReadStream(p('missing'))));
    note('directory', await events(side, fs.createReadStream(p('d'))));
    try {
      fs.createReadStream(p('f'), { start: 5, end: 2 });
    } catch (e) {
      note('start > end', norm(e, side.root));
    }
  },
  ['sync'],
);

diff(
  'createReadStream on a descriptor',
  async ({ side, p, note }) => {
    const fs = side.fs as Fs;
    fs.writeFileSync(p('f'), '0123456789');
    const fd = fs.openSync(p('f'), 'r');
    fs.readSync(fd, Buffer.alloc(2), 0, 2, null);
    // No 'open' event for a given descriptor; reading goes on from its position.
    // (That the stream closed the descriptor cannot be checked on the real side: other tests of this
    // process reuse descriptor numbers at once. fs-behaviour.test.ts checks it on the layer side.)
    note('fd', await events(side, fs.createReadStream('ignored', { fd })));
    const fd2 = fs.openSync(p('f'), 'r');
    // Without autoClose the stream is not destroyed: it ends and never closes.
    note('fd, start, autoClose false', await events(side, fs.createReadStream('', { fd: fd2, start: 7, autoClose: false }), 'end'));
    note('still open', fs.fstatSync(fd2).size);
    fs.closeSync(fd2);
  },
  ['sync'],
);

diff(
  'createWriteStream: flags w and a, start, bytesWritten',
  async ({ side, p, note }) => {
    const fs = side.fs as Fs;
    fs.writeFileSync(p('f'), 'existing');
    let w = fs.createWriteStream(p('f'));
    const truncated = events(side, w);
    w.write('one');
    w.end(Buffer.from('two'));
    note('w', await truncated);
    note('w bytesWritten', w.bytesWritten);
    note('w content', fs.readFileSync(p('f'), 'utf8'));
    w = fs.createWriteStream(p('f'), { flags: 'a' });
    const appended = events(side, w);
    w.write('+appended');
    w.end();
    note('a', await appended);
    note('a content', fs.readFileSync(p('f'), 'utf8'));
    w = fs.createWriteStream(p('f'), { flags: 'r+', start: 2 });
    const placed = events(side, w);
    w.end('XY');
    note('r+ start', await placed);
    note('r+ content', fs.readFileSync(p('f'), 'utf8'));
    // Corked writes go out through writev.
    w = fs.createWriteStream(p('g'), { mode: 0o600 });
    const corked = events(side, w);
    w.cork();
    w.write('a');
    w.write('b');
    w.write('c');
    w.uncork();
    w.end();
    note('writev', await corked);
    note('writev content', [fs.readFileSync(p('g'), 'utf8'), fs.statSync(p('g')).mode & 0o777]);
    note('missing dir', await events(side, fs.createWriteStream(p('missing/x'))));
    note('wx on existing', await events(side, fs.createWriteStream(p('g'), { flags: 'wx' })));
  },
  ['sync'],
);

diff(
  'pipeline from a read stream to a write stream',
  async ({ side, p, note }) => {
    const fs = side.fs as Fs;
    const big = Buffer.alloc(200_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 251;
    fs.writeFileSync(p('big'), big);
    await pipeline(fs.createReadStream(p('big'), { highWaterMark: 1000 }), fs.createWriteStream(p('copy')));
    note('copied', Buffer.compare(fs.readFileSync(p('copy')), big));
  },
  ['sync'],
);

diff(
  'streams of a FileHandle',
  async ({ side, p, note }) => {
    const fs = side.fs as Fs;
    fs.writeFileSync(p('f'), 'handle data');
    const h = await fs.promises.open(p('f'), 'r');
    note('read stream', await events(side, h.createReadStream({ start: 7 })));
    note('handle closed with the stream', h.fd);
    const hw = await fs.promises.open(p('g'), 'w');
    const ws = hw.createWriteStream();
    const done = events(side, ws);
    ws.end('via handle');
    note('write stream', await done);
    note('written', fs.readFileSync(p('g'), 'utf8'));
  },
  ['promise'],
);
