/**
 * NODE-FS: FileHandle.readLines(), FileHandle.readableWebStream(), and a FileHandle collected
 * while open, on Node's fs and on layerfs (see fs/node-suite.ts).
 */
import test from 'ava';
import { Buffer } from 'node:buffer';
import nodeFs from 'node:fs';
import * as readline from 'node:readline';
import * as readlinePromises from 'node:readline/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { norm } from './fs/compare.js';
import { nodeTest } from './fs/node-suite.js';
import { memfsSide, realSide, unionSide, type Side } from './fs/sides.js';

type Fs = typeof import('node:fs');
type Handle = Awaited<ReturnType<Fs['promises']['open']>>;

const failure = (side: Side, fn: () => unknown): unknown => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return [norm(e, side.root), String(e).replace(side.root, '')];
  }
};

async function lines(rl: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of rl) out.push(line);
  return out;
}

nodeTest('filehandle.readLines() reads lines with crlfDelay Infinity, through a read stream on the handle', async ({ side, p, note }) => {
  const fs = side.fs as Fs;
  fs.writeFileSync(p('f'), 'a\r\nb\n\nc');
  let h = await fs.promises.open(p('f'));
  const rl = h.readLines();
  const base = Object.getPrototypeOf(readlinePromises.Interface) as { prototype: object };
  note('kind', [
    rl instanceof readline.Interface,
    Object.getPrototypeOf(rl) === base.prototype,
    rl.terminal,
    (rl as unknown as { crlfDelay: number }).crlfDelay,
    typeof (rl as unknown as { input: unknown }).input,
  ]);
  note('lines', await lines(rl));
  note('handle closed with the stream', h.fd);
  h = await fs.promises.open(p('f'));
  note('encoding and start', await lines(h.readLines({ encoding: 'hex', start: 3 })));
  h = await fs.promises.open(p('f'));
  note('end, autoClose false', await lines(h.readLines({ autoClose: false, end: 4 })));
  note('still open', [typeof h.fd, h.fd >= 0]);
  await h.close();
  note(
    'closed handle',
    failure(side, () => h.readLines()),
  );
});

/** Everything a reader gets: chunk classes and sizes. */
async function drain(stream: { getReader(): { read(): Promise<{ done?: boolean; value?: unknown }> } }): Promise<unknown[]> {
  const out: unknown[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.push([(value as object).constructor.name, (value as ArrayBuffer).byteLength]);
  }
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 20));

nodeTest('filehandle.readableWebStream() streams ArrayBuffers (bytes: Uint8Arrays, BYOB) and locks the handle', async ({ side, p, note }) => {
  const fs = side.fs as Fs;
  const big = Buffer.alloc(200_000);
  for (let i = 0; i < big.length; i++) big[i] = (i >> 14) & 255;
  fs.writeFileSync(p('big'), big);
  fs.writeFileSync(p('empty'), '');
  let h: Handle = await fs.promises.open(p('big'));
  const s = h.readableWebStream();
  note('class', [Object.prototype.toString.call(s), s instanceof ReadableStream]);
  note('default chunks', await drain(s));
  note('open after the stream', [typeof h.fd, h.fd >= 0]);
  note(
    'second stream',
    failure(side, () => h.readableWebStream()),
  );
  await h.close();
  note(
    'closed',
    failure(side, () => h.readableWebStream()),
  );

  h = await fs.promises.open(p('big'));
  note(
    'type 5',
    failure(side, () => h.readableWebStream({ type: 5 as never })),
  );
  note(
    'then locked',
    failure(side, () => h.readableWebStream({ type: 'bytes' })),
  );
  await h.close();

  h = await fs.promises.open(p('big'));
  await h.read(Buffer.alloc(10), 0, 10, null);
  const bytes = h.readableWebStream({ type: 'bytes' });
  const byob = bytes.getReader({ mode: 'byob' });
  const first = await byob.read(new Uint8Array(10));
  note('byob', [first.done, first.value?.constructor.name, first.value?.byteLength, first.value?.[0]]);
  byob.releaseLock();
  const rest = await drain(bytes);
  note('bytes chunks', [rest.length, rest[0], rest.at(-1)]);
  await h.close();

  // The default stream reads one chunk ahead at once; the bytes stream only when asked.
  for (const type of [undefined, 'bytes'] as const) {
    h = await fs.promises.open(p('big'));
    const ahead = h.readableWebStream({ type });
    await pause();
    const mid = Buffer.alloc(1);
    await h.read(mid, 0, 1, null);
    const reader = ahead.getReader();
    const chunk = await reader.read();
    note(`read ahead (${type})`, [mid[0], new Uint8Array(chunk.value as ArrayBuffer)[0]]);
    for (let r = await reader.read(); !r.done; r = await reader.read());
    await h.close();
  }

  // Closing the handle ends the stream: the chunk read ahead is not delivered.
  h = await fs.promises.open(p('big'));
  const cut = h.readableWebStream().getReader();
  note('before close', (await cut.read()).value?.byteLength);
  await pause();
  const closing = h.close();
  note('after close', await cut.read());
  await closing;
  note('fd', h.fd);

  for (const type of [undefined, 'bytes'] as const) {
    h = await fs.promises.open(p('empty'));
    note(`empty (${type})`, await drain(h.readableWebStream({ type })));
    await h.close();
  }
});

/**
 * A handle dropped while open: Node closes its descriptor at garbage collection and warns (and
 * warns DEP0137 once a process). Serial: it listens to the process's warnings and runs the GC
 * (made callable with v8.setFlagsFromString). The warnings print on the test's stderr too.
 */
test.serial("NODE-FS a FileHandle garbage-collected while open is closed, with Node's warnings", async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const logs: unknown[] = [];
  const real = realSide();
  try {
    for (const side of [real, unionSide(), memfsSide()]) {
      const fs = side === real ? nodeFs : (side.fs as Fs);
      fs.writeFileSync(side.p('f'), 'x');
      const warnings: unknown[] = [];
      const listen = (w: Error & { code?: string }) => warnings.push([w.name, w.code, w.message.replace(/\d+/, 'N')]);
      process.on('warning', listen);
      const fds: number[] = [];
      try {
        for (let round = 0; round < 2; round++) {
          // Opened in a function of their own, so that nothing here keeps the handles.
          fds.push(...(await (async () => [(await fs.promises.open(side.p('f'))).fd, (await fs.promises.open(side.p('f'))).fd])()));
          for (let i = 0; i < 20 && warnings.length < 2 * (round + 1) + 1; i++) {
            gc();
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      } finally {
        process.off('warning', listen);
      }
      const closed = fds.map((fd) => failure(side, () => fs.fstatSync(fd)));
      logs.push({ warnings, closed: closed.map((c) => (Array.isArray(c) ? (c[0] as { err: string }).err : c)) });
    }
  } finally {
    real.dispose();
  }
  t.is((logs[0] as { warnings: unknown[] }).warnings.length, 5);
  t.deepEqual(logs[1], logs[0]);
  // DEP0137 comes once a process: the union side above already had it.
  const real0 = logs[0] as { warnings: unknown[][] };
  t.deepEqual(logs[2], { ...real0, warnings: real0.warnings.filter((w) => w[1] !== 'DEP0137') });
});

nodeTest('filehandle.close() waits for the operations running on the handle, then closes it', async ({ side, p, note }) => {
  const fs = side.fs as Fs;
  fs.writeFileSync(p('f'), 'x'.repeat(300_000));
  const h = await fs.promises.open(p('f'), 'r+');
  const order: string[] = [];
  const reading = h.readFile().then((b) => order.push(`readFile ${b.length}`));
  const writing = h.write('abc', 0).then((r) => order.push(`write ${r.bytesWritten}`));
  const closed = h.close();
  const closing = closed.then(() => order.push('closed'));
  note('fd while closing', typeof h.fd === 'number' && h.fd >= 0);
  const again = h.close();
  note('a second close is the same promise', again === closed);
  await Promise.allSettled([reading, writing, closing, again]);
  note('order', order);
  note('fd after', h.fd);
  note(
    'after close',
    await h.stat().then(
      () => 'no error',
      (e: NodeJS.ErrnoException) => [e.code, e.message],
    ),
  );
  note('file', fs.readFileSync(p('f'), 'latin1').slice(0, 5));
});
