/**
 * NODE-FS: fs.watch and fs.promises.watch (src/fs/watch.ts). Each operation runs twice in the same
 * test: with node:fs on a real temp directory watched by node:fs (Linux inotify through libuv),
 * and on a layerfs fs watched by that fs; the event sequences must be the same. Layer sides: a
 * union view's fs, and a container-like mount router (union root, a tmpfs at /t, a bind of a host
 * directory at /b) with the case under the root, the tmpfs and the bind. Node tests: test-fs-watch*,
 * test-fs-promises-watch, test-fs-watch-recursive-*.
 */
import * as nodeFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import test from 'ava';
import { Volume } from 'memfs';
import { createFs } from '../src/fs/node-fs.js';
import { buildLayer } from '../src/layer/build.js';
import { flatten } from '../src/layer/flatten.js';
import { HostCore } from '../src/mounts/host-core.js';
import { MemfsCore } from '../src/mounts/memfs-core.js';
import { MountCore } from '../src/mounts/router.js';
import { MountTable } from '../src/mounts/table.js';
import { UnionCore } from '../src/union/core.js';

type Fs = typeof nodeFs;
type Op = (fs: Fs, p: (rel: string) => string) => void | Promise<void>;
interface Case {
  setup?: Op;
  watch: string;
  recursive?: boolean;
  op: Op;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const CASES: Record<string, Case> = {
  'writeFile of an existing file': { setup: (fs, p) => fs.writeFileSync(p('f'), 'a'), watch: '', op: (fs, p) => fs.writeFileSync(p('f'), 'bb') },
  'writeFile of a new file': { watch: '', op: (fs, p) => fs.writeFileSync(p('f'), 'bb') },
  'writeFile of a new empty file': { watch: '', op: (fs, p) => fs.writeFileSync(p('f'), '') },
  'open wx and close': { watch: '', op: (fs, p) => fs.closeSync(fs.openSync(p('f'), 'wx')) },
  'open of an existing file with O_CREAT, no write': { setup: (fs, p) => fs.writeFileSync(p('f'), 'a'), watch: '', op: (fs, p) => fs.closeSync(fs.openSync(p('f'), 'a')) },
  appendFile: { setup: (fs, p) => fs.writeFileSync(p('f'), 'a'), watch: '', op: (fs, p) => fs.appendFileSync(p('f'), 'bb') },
  'two writes through a descriptor': {
    setup: (fs, p) => fs.writeFileSync(p('f'), 'a'),
    watch: '',
    op: (fs, p) => {
      const fd = fs.openSync(p('f'), 'r+');
      fs.writeSync(fd, 'x');
      fs.writeSync(fd, 'y');
      fs.closeSync(fd);
    },
  },
  'writes in two turns': {
    setup: (fs, p) => fs.writeFileSync(p('f'), 'a'),
    watch: '',
    op: async (fs, p) => {
      fs.appendFileSync(p('f'), 'x');
      await sleep(60);
      fs.appendFileSync(p('f'), 'y');
    },
  },
  truncate: { setup: (fs, p) => fs.writeFileSync(p('f'), 'abc'), watch: '', op: (fs, p) => fs.truncateSync(p('f'), 1) },
  chmod: { setup: (fs, p) => fs.writeFileSync(p('f'), 'a'), watch: '', op: (fs, p) => fs.chmodSync(p('f'), 0o600) },
  utimes: { setup: (fs, p) => fs.writeFileSync(p('f'), 'a'), watch: '', op: (fs, p) => fs.utimesSync(p('f'), 1, 2) },
  'chmod of a subdirectory': { setup: (fs, p) => fs.mkdirSync(p('s')), watch: '', op: (fs, p) => fs.chmodSync(p('s'), 0o700) },
  'rename within': { setup: (fs, p) => fs.writeFileSync(p('f'), 'a'), watch: '', op: (fs, p) => fs.renameSync(p('f'), p('g')) },
  'rename over another file': {
    setup: (fs, p) => {
      fs.writeFileSync(p('f'), 'a');
      fs.writeFileSync(p('g'), 'b');
    },
    watch: '',
    op: (fs, p) => fs.renameSync(p('f'), p('g')),
  },
  'rename out': {
    setup: (fs, p) => {
      fs.mkdirSync(p('w'));
      fs.mkdirSync(p('o'));
      fs.writeFileSync(p('w/f'), 'a');
    },
    watch: 'w',
    op: (fs, p) => fs.renameSync(p('w/f'), p('o/f')),
  },
  'rename in': {
    setup: (fs, p) => {
      fs.mkdirSync(p('w'));
      fs.writeFileSync(p('f'), 'a');
    },
    watch: 'w',
    op: (fs, p) => fs.renameSync(p('f'), p('w/f')),
  },
  unlink: { setup: (fs, p) => fs.writeFileSync(p('f'), 'a'), watch: '', op: (fs, p) => fs.unlinkSync(p('f')) },
  mkdir: { watch: '', op: (fs, p) => fs.mkdirSync(p('s')) },
  rmdir: { setup: (fs, p) => fs.mkdirSync(p('s')), watch: '', op: (fs, p) => fs.rmdirSync(p('s')) },
  symlink: { watch: '', op: (fs, p) => fs.symlinkSync('nowhere', p('l')) },
  link: { setup: (fs, p) => fs.writeFileSync(p('f'), 'a'), watch: '', op: (fs, p) => fs.linkSync(p('f'), p('h')) },
  'a write in a subdirectory (not watched)': { setup: (fs, p) => fs.mkdirSync(p('s')), watch: '', op: (fs, p) => fs.writeFileSync(p('s/f'), 'a') },
  'chmod of the watched directory itself': { setup: (fs, p) => fs.mkdirSync(p('w')), watch: 'w', op: (fs, p) => fs.chmodSync(p('w'), 0o700) },
  'rm -r of a tree': {
    setup: (fs, p) => {
      fs.mkdirSync(p('s'));
      fs.writeFileSync(p('s/x'), 'a');
    },
    watch: '',
    op: (fs, p) => fs.rmSync(p('s'), { recursive: true }),
  },
  'watched file: write': { setup: (fs, p) => fs.writeFileSync(p('f'), 'a'), watch: 'f', op: (fs, p) => fs.writeFileSync(p('f'), 'bb') },
  'watched file: append': { setup: (fs, p) => fs.writeFileSync(p('f'), 'a'), watch: 'f', op: (fs, p) => fs.appendFileSync(p('f'), 'bb') },
  'watched file: truncate': { setup: (fs, p) => fs.writeFileSync(p('f'), 'abc'), watch: 'f', op: (fs, p) => fs.truncateSync(p('f'), 0) },
  'watched file: chmod': { setup: (fs, p) => fs.writeFileSync(p('f'), 'a'), watch: 'f', op: (fs, p) => fs.chmodSync(p('f'), 0o600) },
  'watched file: utimes': { setup: (fs, p) => fs.writeFileSync(p('f'), 'a'), watch: 'f', op: (fs, p) => fs.utimesSync(p('f'), 1, 2) },
  'watched file: unlink': { setup: (fs, p) => fs.writeFileSync(p('f'), 'a'), watch: 'f', op: (fs, p) => fs.unlinkSync(p('f')) },
  'watched file: unlink of one of two names': {
    setup: (fs, p) => {
      fs.writeFileSync(p('f'), 'a');
      fs.linkSync(p('f'), p('h'));
    },
    watch: 'f',
    op: (fs, p) => fs.unlinkSync(p('f')),
  },
  'watched file: link': { setup: (fs, p) => fs.writeFileSync(p('f'), 'a'), watch: 'f', op: (fs, p) => fs.linkSync(p('f'), p('h')) },
  'watched file: renamed, then written': {
    setup: (fs, p) => fs.writeFileSync(p('f'), 'a'),
    watch: 'f',
    op: (fs, p) => {
      fs.renameSync(p('f'), p('g'));
      fs.writeFileSync(p('g'), 'zz');
    },
  },
  'watched file: removed, then made again': {
    setup: (fs, p) => fs.writeFileSync(p('f'), 'a'),
    watch: 'f',
    op: (fs, p) => {
      fs.unlinkSync(p('f'));
      fs.writeFileSync(p('f'), 'zz');
    },
  },
  'watched file: renamed over': {
    setup: (fs, p) => {
      fs.writeFileSync(p('f'), 'a');
      fs.writeFileSync(p('g'), 'b');
    },
    watch: 'f',
    op: (fs, p) => fs.renameSync(p('g'), p('f')),
  },
  'watched directory: removed': { setup: (fs, p) => fs.mkdirSync(p('s')), watch: 's', op: (fs, p) => fs.rmdirSync(p('s')) },
  'watched directory: renamed, then a file made in it': {
    setup: (fs, p) => fs.mkdirSync(p('s')),
    watch: 's',
    op: (fs, p) => {
      fs.renameSync(p('s'), p('t'));
      fs.writeFileSync(p('t/x'), '');
    },
  },
  'watched directory: rm -r': {
    setup: (fs, p) => {
      fs.mkdirSync(p('s'));
      fs.writeFileSync(p('s/x'), 'a');
    },
    watch: 's',
    op: (fs, p) => fs.rmSync(p('s'), { recursive: true }),
  },
  'a file renamed, then written through a descriptor opened before': {
    watch: '',
    op: (fs, p) => {
      const fd = fs.openSync(p('f'), 'w');
      fs.renameSync(p('f'), p('g'));
      fs.writeSync(fd, 'x');
      fs.closeSync(fd);
    },
  },
  'copyFile to a new name': { setup: (fs, p) => fs.writeFileSync(p('f'), 'abc'), watch: '', op: (fs, p) => fs.copyFileSync(p('f'), p('g')) },
  'promises.writeFile of a new file': { watch: '', op: (fs, p) => fs.promises.writeFile(p('f'), 'abc') },
  'a write stream': {
    watch: '',
    op: (fs, p) =>
      new Promise<void>((resolve, reject) => {
        const s = fs.createWriteStream(p('f'));
        s.on('error', reject);
        s.end('abc', () => resolve());
      }),
  },
  'watched through a symlink: the target written': {
    setup: (fs, p) => {
      fs.writeFileSync(p('f'), 'a');
      fs.symlinkSync('f', p('l'));
    },
    watch: 'l',
    op: (fs, p) => fs.appendFileSync(p('f'), 'b'),
  },
  'a watched file in a renamed directory, then written': {
    setup: (fs, p) => {
      fs.mkdirSync(p('s'));
      fs.writeFileSync(p('s/f'), 'a');
    },
    watch: 's/f',
    op: (fs, p) => {
      fs.renameSync(p('s'), p('t'));
      fs.appendFileSync(p('t/f'), 'b');
    },
  },
  'a failing rmdir (not empty) and a failing unlink': {
    setup: (fs, p) => {
      fs.mkdirSync(p('s'));
      fs.writeFileSync(p('s/f'), 'a');
    },
    watch: '',
    op: (fs, p) => {
      for (const fn of [() => fs.rmdirSync(p('s')), () => fs.unlinkSync(p('nope'))]) {
        try {
          fn();
        } catch {}
      }
    },
  },
  'recursive: a file made in a subdirectory': { setup: (fs, p) => fs.mkdirSync(p('s')), watch: '', recursive: true, op: (fs, p) => fs.writeFileSync(p('s/f'), 'a') },
  'recursive: a new directory, then a file in it': {
    watch: '',
    recursive: true,
    op: async (fs, p) => {
      fs.mkdirSync(p('s'));
      await sleep(100);
      fs.writeFileSync(p('s/f'), 'a');
    },
  },
  'recursive: unlink in a subdirectory': {
    setup: (fs, p) => {
      fs.mkdirSync(p('s'));
      fs.writeFileSync(p('s/f'), 'a');
    },
    watch: '',
    recursive: true,
    op: (fs, p) => fs.unlinkSync(p('s/f')),
  },
  'recursive: a file written in a subdirectory': {
    setup: (fs, p) => {
      fs.mkdirSync(p('s'));
      fs.writeFileSync(p('s/f'), 'a');
    },
    watch: '',
    recursive: true,
    op: (fs, p) => fs.appendFileSync(p('s/f'), 'b'),
  },
  'recursive: watching a file': { setup: (fs, p) => fs.writeFileSync(p('f'), 'a'), watch: 'f', recursive: true, op: (fs, p) => fs.writeFileSync(p('f'), 'bb') },
};

/** The events a watch of `c.watch` gets while `c.op` runs in `dir` on `fs`. */
async function events(fs: Fs, dir: string, c: Case, encoding?: BufferEncoding | 'buffer'): Promise<string[]> {
  const p = (rel: string) => (rel === '' ? dir : `${dir}/${rel}`);
  await c.setup?.(fs, p);
  const seen: string[] = [];
  const w = fs.watch(p(c.watch), { recursive: c.recursive ?? false, encoding: encoding as BufferEncoding }, (type, name) => {
    seen.push(`${type}:${Buffer.isBuffer(name) ? `<buffer ${name.toString('hex')}>` : name}`);
  });
  w.on('error', (e: NodeJS.ErrnoException) => seen.push(`error:${e.code}`));
  await sleep(c.recursive ? 150 : 30);
  await c.op(fs, p);
  await sleep(c.recursive ? 400 : 150);
  // A poll phase after the timer: inotify's events already queued are read (a busy loop can run
  // the timer in the same iteration, before the poll that reads them).
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  w.close();
  return seen;
}

function realDir(): { dir: string; dispose(): void } {
  const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'layerfs-watch-'));
  return { dir, dispose: () => nodeFs.rmSync(dir, { recursive: true, force: true }) };
}

function unionFs(): Fs {
  return createFs(new UnionCore(flatten([buildLayer([], 0, 'base')]))) as unknown as Fs;
}

/** A container's mount router: a union root, a tmpfs at /t, a host directory bound at /b. */
function routerFs(): { fs: Fs; dispose(): void } {
  const host = realDir();
  const union = new UnionCore(flatten([buildLayer([], 0, 'base')]));
  union.mkdir('/t', 0o755);
  union.mkdir('/b', 0o755);
  const bind = new HostCore(host.dir);
  const table = new MountTable({ target: '/', core: union, readOnly: false, kind: 'layer' }, [
    { target: '/t', core: new MemfsCore(new Volume()), readOnly: false, kind: 'tmpfs' },
    { target: '/b', core: bind, readOnly: false, kind: 'bind', source: host.dir },
  ]);
  return {
    fs: createFs(new MountCore(table)) as unknown as Fs,
    dispose: () => {
      bind.closeAll();
      host.dispose();
    },
  };
}

const LAYERS: Array<{ name: string; make(): { fs: Fs; base: string; dispose(): void } }> = [
  { name: 'union', make: () => ({ fs: unionFs(), base: '', dispose: () => {} }) },
  { name: 'router: root layer', make: () => ({ ...routerFs(), base: '' }) },
  { name: 'router: tmpfs', make: () => ({ ...routerFs(), base: '/t' }) },
  { name: 'router: bind', make: () => ({ ...routerFs(), base: '/b' }) },
];

for (const [title, c] of Object.entries(CASES)) {
  for (const layer of LAYERS) {
    // The recursive cases are Node's own algorithm over the same non-recursive watch: one side is enough.
    if (c.recursive && layer.name !== 'union') continue;
    test(`NODE-FS fs.watch: ${title} [${layer.name}]`, async (t) => {
      const real = realDir();
      const side = layer.make();
      try {
        nodeFs.mkdirSync(`${real.dir}/c`);
        const expected = await events(nodeFs, `${real.dir}/c`, c);
        side.fs.mkdirSync(`${side.base}/c`);
        const actual = await events(side.fs, `${side.base}/c`, c);
        t.deepEqual(actual, expected);
      } finally {
        real.dispose();
        side.dispose();
      }
    });
  }
}

for (const encoding of ['buffer', 'hex', 'latin1'] as const) {
  test(`NODE-FS fs.watch: encoding ${encoding} gives the filename so [union]`, async (t) => {
    const c = CASES['writeFile of a new file'];
    const real = realDir();
    try {
      const expected = await events(nodeFs, real.dir, c, encoding);
      const fs = unionFs();
      fs.mkdirSync('/c');
      t.deepEqual(await events(fs, '/c', c, encoding), expected);
    } finally {
      real.dispose();
    }
  });
}

/** An error's comparable fields, with the real side's directory cut out. */
function errorOf(fn: () => unknown, root: string): unknown {
  try {
    fn();
    return 'no throw';
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { filename?: string };
    const cut = (s: unknown) => (typeof s === 'string' ? s.split(root).join('') : s);
    return { name: err.name, code: err.code, errno: err.errno, syscall: err.syscall, message: cut(err.message), path: cut(err.path), filename: cut(err.filename) };
  }
}

test('NODE-FS fs.watch: a missing path is ENOENT (syscall watch), a path through a file ENOTDIR, recursive ENOENT comes from stat [union]', (t) => {
  const real = realDir();
  try {
    nodeFs.writeFileSync(`${real.dir}/file`, '');
    const fs = unionFs();
    fs.writeFileSync('/file', '');
    for (const [rel, opts] of [
      ['missing', {}],
      ['file/x', {}],
      ['missing', { recursive: true }],
    ] as const) {
      t.deepEqual(
        errorOf(() => fs.watch(`/${rel}`, opts), ''),
        errorOf(() => nodeFs.watch(`${real.dir}/${rel}`, opts), real.dir),
        rel,
      );
    }
  } finally {
    real.dispose();
  }
});

test('NODE-FS fs.watch: argument checks are Node’s [union]', (t) => {
  const fs = unionFs();
  fs.mkdirSync('/d');
  const real = realDir();
  try {
    const bad: unknown[] = [{ recursive: 'x' }, { encoding: 'bogus' }, 5, { signal: 1 }];
    for (const o of bad) {
      t.deepEqual(
        errorOf(() => fs.watch('/d', o as object).close(), ''),
        errorOf(() => nodeFs.watch(real.dir, o as object).close(), real.dir),
      );
    }
    t.deepEqual(
      errorOf(() => fs.watch(5 as unknown as string), ''),
      errorOf(() => nodeFs.watch(5 as unknown as string), real.dir),
    );
  } finally {
    real.dispose();
  }
});

/** What close() and an AbortSignal do: 'close' after the call (on the next tick), once; events stop. */
async function closing(fs: Fs, dir: string): Promise<string[]> {
  const log: string[] = [];
  const w = fs.watch(dir, (type, name) => log.push(`change:${type}:${name}`));
  w.on('close', () => log.push('close'));
  t0(log, w.ref() === w && w.unref() === w && w.ref() === w);
  fs.writeFileSync(`${dir}/a`, '');
  w.close();
  w.close();
  log.push('after close()');
  await sleep(50);
  fs.writeFileSync(`${dir}/b`, '');
  await sleep(50);
  const ac = new AbortController();
  const w2 = fs.watch(dir, { signal: ac.signal }, (type, name) => log.push(`change2:${type}:${name}`));
  w2.on('close', () => log.push('close2'));
  fs.writeFileSync(`${dir}/c`, '');
  await sleep(50);
  ac.abort();
  log.push('after abort()');
  fs.writeFileSync(`${dir}/d`, '');
  await sleep(50);
  const pre = new AbortController();
  pre.abort();
  const w3 = fs.watch(dir, { signal: pre.signal });
  w3.on('close', () => log.push('close3'));
  log.push('made w3');
  await sleep(20);
  return log;
}

function t0(log: string[], ok: boolean): void {
  log.push(`ref/unref return the watcher: ${ok}`);
}

test('NODE-FS fs.watch: close() and an AbortSignal end the watch; close is emitted once, later [union]', async (t) => {
  const real = realDir();
  try {
    const expected = await closing(nodeFs, real.dir);
    const fs = unionFs();
    fs.mkdirSync('/c');
    t.deepEqual(await closing(fs, '/c'), expected);
  } finally {
    real.dispose();
  }
});

async function iterate(fs: Fs, dir: string): Promise<unknown[]> {
  const log: unknown[] = [];
  const ac = new AbortController();
  const it = fs.promises.watch(dir, { signal: ac.signal });
  setTimeout(() => fs.writeFileSync(`${dir}/a`, 'x'), 30);
  try {
    for await (const e of it) {
      log.push(e);
      if (log.length === 2) ac.abort();
    }
    log.push('ended');
  } catch (e) {
    const err = e as Error & { code?: string };
    log.push({ name: err.name, code: err.code, message: err.message });
  }
  const pre = new AbortController();
  pre.abort();
  try {
    for await (const e of fs.promises.watch(dir, { signal: pre.signal })) log.push(e);
  } catch (e) {
    log.push((e as Error).name);
  }
  try {
    for await (const e of fs.promises.watch(`${dir}/missing`)) log.push(e);
  } catch (e) {
    log.push((e as NodeJS.ErrnoException).code, (e as NodeJS.ErrnoException).syscall);
  }
  return log;
}

test('NODE-FS fs.promises.watch: yields { eventType, filename }; an AbortSignal ends it with AbortError [union]', async (t) => {
  const real = realDir();
  try {
    const expected = await iterate(nodeFs, real.dir);
    const fs = unionFs();
    fs.mkdirSync('/c');
    t.deepEqual(await iterate(fs, '/c'), expected);
  } finally {
    real.dispose();
  }
});

test('fs.watch: changes through another fs of the same core are seen; events come in a later turn, in order', async (t) => {
  const core = new UnionCore(flatten([buildLayer([], 0, 'base')]));
  const a = createFs(core) as unknown as Fs;
  const b = createFs(core) as unknown as Fs;
  a.mkdirSync('/d');
  const seen: string[] = [];
  const w = a.watch('/d', (type, name) => seen.push(`${type}:${name}`));
  b.writeFileSync('/d/x', 'x');
  b.mkdirSync('/d/y');
  b.renameSync('/d/x', '/d/z');
  t.deepEqual(seen, [], 'nothing inside the calls');
  await sleep(20);
  w.close();
  t.deepEqual(seen, ['rename:x', 'change:x', 'rename:y', 'rename:x', 'rename:z']);
});

test('fs.watch: persistent keeps a ref’d handle until unref() or close()', (t) => {
  const fs = unionFs();
  fs.mkdirSync('/d');
  const count = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = count();
  const w = fs.watch('/d');
  t.is(count(), before + 1);
  w.unref();
  t.is(count(), before);
  w.ref();
  t.is(count(), before + 1);
  w.close();
  t.is(count(), before);
  const w2 = fs.watch('/d', { persistent: false });
  t.is(count(), before);
  w2.close();
});

test('fs.watch: a container-like router fs and the union view’s own fs see each other’s changes to the layer, not under a mount', async (t) => {
  const union = new UnionCore(flatten([buildLayer([], 0, 'base')]));
  union.mkdir('/t', 0o755);
  union.mkdir('/d', 0o755);
  const view = createFs(union) as unknown as Fs;
  const router = createFs(
    new MountCore(new MountTable({ target: '/', core: union, readOnly: false, kind: 'layer' }, [{ target: '/t', core: new MemfsCore(new Volume()), readOnly: false, kind: 'tmpfs' }])),
  ) as unknown as Fs;
  const seen: string[] = [];
  const viaRouter = router.watch('/d', (type, name) => seen.push(`router /d ${type}:${name}`));
  const viaView = view.watch('/d', (type, name) => seen.push(`view /d ${type}:${name}`));
  const tmpfs = router.watch('/t', (type, name) => seen.push(`router /t ${type}:${name}`));
  const under = view.watch('/t', (type, name) => seen.push(`view /t (under the tmpfs) ${type}:${name}`));
  view.mkdirSync('/d/a');
  await sleep(20);
  router.mkdirSync('/d/b');
  await sleep(20);
  router.writeFileSync('/t/x', '');
  await sleep(20);
  view.writeFileSync('/t/y', '');
  await sleep(20);
  for (const w of [viaRouter, viaView, tmpfs, under]) w.close();
  t.deepEqual(seen, ['router /d rename:a', 'view /d rename:a', 'router /d rename:b', 'view /d rename:b', 'router /t rename:x', 'view /t (under the tmpfs) rename:y']);
});

async function firstRecursive(fs: Fs, dir: string): Promise<unknown> {
  fs.mkdirSync(`${dir}/s`);
  fs.mkdirSync(`${dir}/s/t`);
  const ac = new AbortController();
  setTimeout(() => fs.mkdirSync(`${dir}/s/t/x`), 50);
  for await (const e of fs.promises.watch(dir, { recursive: true, signal: ac.signal })) {
    ac.abort();
    return e;
  }
}

test('NODE-FS fs.promises.watch: recursive reports a change deep below by its relative path [union]', async (t) => {
  const real = realDir();
  try {
    const expected = await firstRecursive(nodeFs, real.dir);
    const fs = unionFs();
    fs.mkdirSync('/c');
    t.deepEqual(await firstRecursive(fs, '/c'), expected);
  } finally {
    real.dispose();
  }
});
