/**
 * NODE-FS: which members of the exported `fs` object Node's own functions call (so that a spy or a
 * patch on them, as test suites and graceful-fs make, sees the same calls on layerfs): writeFile
 * and appendFile (callback and sync, with and without `flush`), the promise writeFile's flush
 * through FileHandle.prototype.sync, rm and recursive rmdir.
 *
 * On the real side the spies go on Node's own module object (that is what its functions call), so
 * every test of this file is serial and puts the members back before the next starts. Node's
 * rimraf module copies some members when first loaded: it is loaded before any spy is set.
 */
import test, { type ExecutionContext } from 'ava';
import { Buffer } from 'node:buffer';
import nodeFs from 'node:fs';
import { cut } from './fs/compare.js';
import { memfsSide, realSide, unionSide, type Side } from './fs/sides.js';

type Fn = (...args: any[]) => any;
type AnyFs = Record<string, any>;

const SPIED = [
  'open',
  'openSync',
  'write',
  'writeSync',
  'fsync',
  'fsyncSync',
  'close',
  'closeSync',
  'writeFile',
  'writeFileSync',
  'appendFile',
  'appendFileSync',
  'lstat',
  'lstatSync',
  'stat',
  'statSync',
  'rmdir',
  'rmdirSync',
  'unlink',
  'unlinkSync',
  'readdir',
  'readdirSync',
  'rm',
  'rmSync',
  'read',
  'readSync',
  'fstat',
  'fstatSync',
];

// Node's rimraf takes its lstat/rmdir/... when first loaded: load it now, with Node's own members.
{
  const dir = nodeFs.mkdtempSync('/tmp/layerfs-rimraf-');
  nodeFs.rmSync(dir, { recursive: true });
}

/** An argument as comparable text: descriptors by type, paths without the side's root. */
function arg(v: unknown, root: string): unknown {
  if (typeof v === 'function') return 'function';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return cut(v, root);
  if (Buffer.isBuffer(v)) return `Buffer ${cut(v.toString('latin1'), root)}`;
  if (v && typeof v === 'object') return JSON.parse(JSON.stringify(v));
  return v;
}

/** Replaces the SPIED members of `fs` by recorders; returns the calls and a way back. */
function spy(fs: AnyFs, root: string): { calls: unknown[]; restore(): void } {
  const calls: unknown[] = [];
  const saved = SPIED.map((name) => [name, fs[name]] as const);
  for (const [name, original] of saved) {
    fs[name] = function recorder(this: unknown, ...args: unknown[]) {
      calls.push([name, ...args.map((a) => arg(a, root))]);
      return (original as Fn).apply(this, args);
    };
  }
  return {
    calls,
    restore: () => {
      for (const [name, original] of saved) fs[name] = original;
    },
  };
}

/** Runs `scenario` with the spies on, on Node's fs and on each layer fs; the calls must be the same. */
async function sameCalls(t: ExecutionContext, scenario: (fs: AnyFs, p: (rel: string) => string) => Promise<void> | void): Promise<void> {
  const logs: Record<string, unknown[]> = {};
  const real = realSide();
  const layers: Array<[string, Side]> = [
    ['union', unionSide()],
    ['memfs', memfsSide()],
  ];
  try {
    for (const [name, side, fs] of [['real', real, nodeFs as unknown as AnyFs], ...layers.map(([n, s]) => [n, s, s.fs as unknown as AnyFs])] as Array<[string, Side, AnyFs]>) {
      const s = spy(fs, side.root);
      try {
        await scenario(fs, side.p);
      } finally {
        s.restore();
      }
      logs[name] = s.calls;
    }
  } finally {
    real.dispose();
  }
  t.true(logs.real.length > 0);
  t.deepEqual(logs.union, logs.real);
  t.deepEqual(logs.memfs, logs.real);
}

const callback = (fn: (cb: (err: unknown) => void) => void): Promise<unknown> => new Promise((resolve) => fn((err) => resolve(err)));

test.serial('NODE-FS writeFileSync and appendFileSync call fs.openSync, fs.writeSync, fs.fsyncSync (flush) and fs.closeSync', async (t) => {
  await sameCalls(t, (fs, p) => {
    fs.writeFileSync(p('a'), 'data', { flush: true });
    fs.writeFileSync(p('a'), Buffer.from('bytes'), { flush: true });
    fs.writeFileSync(p('a'), 'latin', { flush: true, encoding: 'latin1' });
    // Node's utf8 fast path: no calls through fs, and no flush.
    fs.writeFileSync(p('a'), 'fast', { flush: true, encoding: 'utf8' });
    for (const flush of [undefined, null, false]) fs.writeFileSync(p('b'), Buffer.from('x'), { flush });
    fs.appendFileSync(p('a'), Buffer.from('+'), { flush: true });
    fs.appendFileSync(p('a'), '+');
    const fd = fs.openSync(p('c'), 'w');
    fs.writeFileSync(fd, Buffer.from('fd'), { flush: true });
    fs.appendFileSync(fd, Buffer.from('fd'));
    fs.closeSync(fd);
  });
});

test.serial('NODE-FS writeFile and appendFile call fs.open, fs.write, fs.fsync (flush) and fs.close', async (t) => {
  await sameCalls(t, async (fs, p) => {
    await callback((cb) => fs.writeFile(p('a'), 'data', { flush: true }, cb));
    await callback((cb) => fs.writeFile(p('a'), 'data', cb));
    await callback((cb) => fs.writeFile(p('a'), 'data', { flush: false }, cb));
    await callback((cb) => fs.appendFile(p('a'), 'more', { flush: true }, cb));
    await callback((cb) => fs.appendFile(p('a'), 'more', cb));
    await callback((cb) => fs.writeFile(p('missing/a'), 'data', { flush: true }, cb));
    const fd = fs.openSync(p('c'), 'w');
    await callback((cb) => fs.writeFile(fd, 'fd', { flush: true }, cb));
    fs.closeSync(fd);
  });
});

test.serial("NODE-FS promises.writeFile with flush calls the FileHandle's sync()", async (t) => {
  const counts: number[][] = [];
  const real = realSide();
  try {
    for (const side of [real, unionSide(), memfsSide()]) {
      const fs = side === real ? nodeFs : (side.fs as typeof nodeFs);
      const probe = await fs.promises.open(side.p('probe'), 'w');
      const proto = Object.getPrototypeOf(probe) as { sync: Fn };
      await probe.close();
      const original = proto.sync;
      let n = 0;
      proto.sync = function sync(this: unknown, ...args: unknown[]) {
        n++;
        return original.apply(this, args);
      };
      const seen: number[] = [];
      try {
        for (const flush of [true, false, undefined]) {
          n = 0;
          await fs.promises.writeFile(side.p('f'), 'data', { flush });
          await fs.promises.appendFile(side.p('f'), 'more', { flush });
          seen.push(n);
        }
      } finally {
        proto.sync = original;
      }
      counts.push(seen);
    }
  } finally {
    real.dispose();
  }
  t.deepEqual(counts[0], [2, 0, 0]);
  t.deepEqual(counts[1], counts[0]);
  t.deepEqual(counts[2], counts[0]);
});

/** A tree for rm: d/{f, e/, s/{g, t/{h}}, l -> f}. */
function tree(fs: AnyFs, p: (rel: string) => string): void {
  fs.mkdirSync(p('d/e'), { recursive: true });
  fs.mkdirSync(p('d/s/t'), { recursive: true });
  fs.writeFileSync(p('d/f'), Buffer.from('f'));
  fs.writeFileSync(p('d/s/g'), Buffer.from('g'));
  fs.writeFileSync(p('d/s/t/h'), Buffer.from('h'));
  fs.symlinkSync('f', p('d/l'));
}

test.serial('NODE-FS rmSync and recursive rmdirSync call fs.lstatSync to validate and fs.rmdirSync once the children are gone', async (t) => {
  process.noDeprecation = true;
  try {
    await sameCalls(t, (fs, p) => {
      tree(fs, p);
      fs.rmdirSync(p('d'), { recursive: true });
      tree(fs, p);
      fs.rmSync(p('d'), { recursive: true });
      tree(fs, p);
      fs.rmSync(p('d'), { recursive: true, force: true });
      fs.rmSync(p('missing'), { force: true });
      try {
        fs.rmdirSync(p('missing'), { recursive: true, maxRetries: 0 });
      } catch {
        // ENOENT from the validation's lstatSync (recorded all the same).
      }
    });
  } finally {
    process.noDeprecation = false;
  }
});

test.serial('NODE-FS rm, recursive rmdir and promises.rm validate through fs.lstat', async (t) => {
  process.noDeprecation = true;
  try {
    await sameCalls(t, async (fs, p) => {
      tree(fs, p);
      await callback((cb) => fs.rmdir(p('d'), { recursive: true }, cb));
      tree(fs, p);
      await callback((cb) => fs.rm(p('d'), { recursive: true }, cb));
      tree(fs, p);
      await fs.promises.rm(p('d'), { recursive: true });
      tree(fs, p);
      await fs.promises.rmdir(p('d'), { recursive: true });
      await callback((cb) => fs.rm(p('missing'), { force: true }, cb));
      await callback((cb) => fs.rmdir(p('missing'), { recursive: true }, cb));
    });
  } finally {
    process.noDeprecation = false;
  }
});
