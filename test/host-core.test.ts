/**
 * HostCore (bind mounts, on-disk volumes: the syscalls over a real host directory).
 *
 * 1. DKR-3 the differential suites (fs-api, fs-tree, fs-streams, fs-behaviour, fs-args,
 *    fs-random) run here with createFs(HostCore) over a temp directory as their "layer" side,
 *    against Node's fs in another temp directory: `useLayerSide(hostSide)` below.
 * 2. escape: a root with links to '/', to ancestors, to host paths, chains and loops; every call
 *    through them leaves a tree of sentinels outside the root unchanged (content, mode, owner,
 *    times, link counts, no new names), and lands where the kernel would put it inside a chroot at
 *    the root: the same calls on MemfsCore (whose walk is that chroot's) give the same results and
 *    tree. Then the same with another thread swapping a directory for an escaping link meanwhile,
 *    and random sequences with absolute and '..' link targets.
 * 3. DKR-5 readOnly: every change EROFS in the kernel's order (the codes below are what a
 *    read-only tmpfs answered on Linux 6.x), reads work, the tree is untouched.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { createFs, type LayerFs } from '../src/fs/node-fs.js';
import { HostCore } from '../src/mounts/host-core.js';
import { call, norm, snapshot, type Flavour } from './fs/compare.js';
import { disposeHostSides, hostSide, memfsSide, useLayerSide, type Side } from './fs/sides.js';
import './fs-api.test.js';
import './fs-tree.test.js';
import './fs-streams.test.js';
import './fs-behaviour.test.js';
import './fs-args.test.js';
import './fs-random.test.js';

useLayerSide(() => hostSide());
test.after.always(disposeHostSides);

type Fs = typeof nodeFs;
const C = nodeFs.constants;
const PROBE = 'layerfs-escape-probe';

/** A temp directory holding `outside/` (sentinels) and `root/` (the HostCore's root). */
interface Jail {
  top: string;
  root: string;
  core: HostCore;
  fs: LayerFs;
  side: Side;
  dispose(): void;
}

function jail(): Jail {
  const top = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'layerfs-escape-'));
  const outside = path.join(top, 'outside');
  nodeFs.mkdirSync(path.join(outside, 'dir'), { recursive: true });
  nodeFs.writeFileSync(path.join(outside, 'sentinel'), 'SECRET', { mode: 0o640 });
  nodeFs.writeFileSync(path.join(outside, 'dir', 'inner'), 'INNER');
  nodeFs.symlinkSync('sentinel', path.join(outside, 'to-sentinel'));
  for (const p of ['sentinel', 'dir/inner', 'dir', '']) nodeFs.utimesSync(path.join(outside, p), 1e9, 1e9);
  const root = path.join(top, 'root');
  nodeFs.mkdirSync(root, { mode: 0o755 });
  nodeFs.chmodSync(root, 0o777);
  const core = new HostCore(root);
  const fs = createFs(core);
  const side: Side = { name: 'layer', fs, p: (rel) => `/${rel}`, root: '', dispose: () => {} };
  return {
    top,
    root,
    core,
    fs,
    side,
    dispose: () => {
      core.closeAll();
      nodeFs.rmSync(top, { recursive: true, force: true });
    },
  };
}

/** Everything under `top` but inside `root`: names, types, modes, owners, link counts, sizes, times, contents. */
function outsideState(j: { top: string; root: string }): unknown[] {
  const out: unknown[] = [];
  const entry = (p: string) => {
    const st = nodeFs.lstatSync(p, { bigint: true });
    const e: Record<string, unknown> = {
      path: path.relative(j.top, p) || '.',
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      nlink: st.nlink,
      size: st.size,
      ino: st.ino,
      mtimeNs: st.mtimeNs,
      ctimeNs: st.ctimeNs,
    };
    if (st.isFile()) e.content = nodeFs.readFileSync(p, 'latin1');
    if (st.isSymbolicLink()) e.target = nodeFs.readlinkSync(p);
    out.push(e);
    if (st.isDirectory() && p !== j.root) for (const name of nodeFs.readdirSync(p).sort()) entry(path.join(p, name));
  };
  entry(j.top);
  // The root directory itself changes (its entries are ours); only its identity is kept.
  const r = out.find((e) => (e as { path: string }).path === 'root') as Record<string, unknown> | undefined;
  for (const k of ['mode', 'nlink', 'size', 'mtimeNs', 'ctimeNs']) delete r?.[k];
  return out;
}

/** No probe name appeared in the host's '/', the temp directory or next to the jail. */
function assertNoProbes(t: ExecutionContext, j: Jail): void {
  for (const dir of ['/', os.tmpdir(), j.top, path.join(j.top, 'outside')]) {
    const hits = nodeFs.readdirSync(dir).filter((n) => n.includes(PROBE) || n.startsWith('moved-') || n.startsWith('hard-'));
    t.deepEqual(hits, [], `new names in ${dir}`);
  }
}

/**
 * The hostile links, created through `fs` at its root '/' (`top` is the jail's host path):
 * spelled so that a walk that let the host kernel resolve them would reach top/outside.
 */
function plantLinks(fs: Fs, top: string): void {
  fs.symlinkSync('/', '/etc');
  fs.symlinkSync('../../..', '/up');
  fs.symlinkSync('/outside/sentinel', '/abs');
  fs.symlinkSync('/outside', '/absdir');
  fs.symlinkSync(`${top}/outside/sentinel`, '/hostabs');
  fs.symlinkSync(`${top}/outside`, '/hostdir');
  fs.symlinkSync('loop', '/loop');
  fs.mkdirSync('/d/e', { recursive: true });
  fs.symlinkSync('../../outside', '/d/x');
  fs.symlinkSync('../..', '/d/e/back');
  fs.symlinkSync('c2', '/c1');
  fs.symlinkSync('c3/.', '/c2');
  fs.symlinkSync('d/x', '/c3');
  fs.symlinkSync('d/../../../..', '/dotdot');
}

/** Paths that reach top/outside/sentinel if resolved by the host; inside, ROOT/outside/sentinel or ROOT/<top>/outside/sentinel. */
function escaping(top: string): string[] {
  const rel = top.slice(1);
  return [
    `/etc/${rel}/outside/sentinel`,
    `/up/${rel}/outside/sentinel`,
    '/hostabs',
    `/hostdir/sentinel`,
    '/d/x/sentinel',
    '/c1/sentinel',
    '/d/e/back/../outside/sentinel',
    `/../../../..${top}/outside/sentinel`,
    `/dotdot/${rel}/outside/sentinel`,
    '/up/../../outside/to-sentinel',
    '/absdir/sentinel',
    '/abs',
  ];
}

/** Decoys where the escaping paths land inside a chroot at the root. */
function plantDecoys(fs: Fs, top: string): void {
  for (const dir of ['/outside', `${top}/outside`]) {
    fs.mkdirSync(`${dir}/dir`, { recursive: true });
    fs.writeFileSync(`${dir}/sentinel`, `DECOY ${dir}`);
    fs.writeFileSync(`${dir}/dir/inner`, 'DECOY INNER');
    fs.symlinkSync('sentinel', `${dir}/to-sentinel`);
  }
}

type Step = [string, ...unknown[]];

/** Every call, through each escaping path (and then on the links themselves), recorded like a scenario. */
async function attack(side: Side, top: string, flavour: Flavour): Promise<unknown[]> {
  const log: unknown[] = [];
  const run = async (...[name, ...args]: Step) => log.push([name, ...args.map((a) => norm(a, '')), await call(side, flavour, name, ...args)]);
  const paths = escaping(top);
  for (const [i, p] of paths.entries()) {
    const dir = p === '/hostabs' || p === '/abs' ? p : path.posix.dirname(p);
    await run('stat', p);
    await run('lstat', p);
    await run('realpath', p);
    await run('readFile', p, 'latin1');
    await run('readdir', dir);
    await run('access', p, C.W_OK);
    await run('writeFile', p, `W${i}`);
    await run('appendFile', p, '+A');
    await run('truncate', p, 3);
    await run('chmod', p, 0o604);
    await run('chown', p, 4242, 4343);
    await run('lchown', p, 4244, 4345);
    await run('utimes', p, 7, 8);
    await run('lutimes', p, 9, 10);
    await run('link', p, `/hard-${i}`);
    await run('rename', p, `/moved-${i}`);
    await run('rename', `/moved-${i}`, p);
    await run('copyFile', p, `/copy-${i}`);
    await run('copyFile', `/copy-${i}`, p);
    await run('mkdir', `${dir}/${PROBE}-dir-${i}`);
    await run('symlink', '/outside/sentinel', `${dir}/${PROBE}-link-${i}`);
    await run('unlink', p);
    await run('writeFile', p, `recreated ${i}`, { flag: 'wx' });
    await run('rmdir', `${dir}/${PROBE}-dir-${i}`);
  }
  await run('writeFile', `/etc/${PROBE}`, 'through etc');
  await run('writeFile', `/up/${PROBE}-up`, 'through up');
  await run('mkdir', `/d/e/back/${PROBE}-mkdir`);
  await run('writeFile', `/up/../etc/../up/d/e/back/d/x/../${PROBE}-chain`, 'through a chain', { flag: 'a+' });
  await run('readFile', '/loop');
  await run('writeFile', '/loop', 'x');
  await run('readdir', '/up/..');
  // Calls on the links themselves: never followed.
  await run('readlink', '/up');
  await run('lchown', '/etc', 4246, 4247);
  await run('lutimes', '/up', 11, 12);
  await run('link', '/hostabs', '/hard-link-to-link');
  await run('rename', '/hostdir', '/hostdir-moved');
  await run('unlink', '/abs');
  await run('symlink', 'x', '/etc');
  await run('unlink', '/d/x/');
  await run('rmdir', '/d/x/');
  // rm -r through the links.
  await run('rm', `/etc/${top.slice(1)}`, { recursive: true });
  await run('rm', '/c1/', { recursive: true, force: true });
  await run('rm', '/d/e/back/outside', { recursive: true, force: true });
  await run('rm', '/up', { recursive: true });
  log.push(['tree', snapshot(side)]);
  return log;
}

for (const flavour of ['sync', 'callback', 'promise'] as const) {
  test(`escape: every call through links to '/', ancestors, host paths and chains stays in the root and lands where a chroot puts it [${flavour}]`, async (t) => {
    const j = jail();
    try {
      const before = outsideState(j);
      const host = j.fs as unknown as Fs;
      plantLinks(host, j.top);
      // Without decoys every escaping path is ENOENT: nothing outside is ever read.
      for (const p of escaping(j.top)) {
        const e = t.throws(() => host.readFileSync(p, 'latin1'), undefined, p) as Error & { code: string };
        t.is(e.code, 'ENOENT', p);
      }
      plantDecoys(host, j.top);
      const model = memfsSide();
      plantLinks(model.fs as Fs, j.top);
      plantDecoys(model.fs as Fs, j.top);
      const actual = await attack(j.side, j.top, flavour);
      const expected = await attack(model, j.top, flavour);
      t.deepEqual(actual, expected);
      t.false(JSON.stringify(actual).includes('SECRET') || JSON.stringify(actual).includes('"INNER'));
      // Most calls got through (to the decoys), so the comparison is about where they landed.
      const landed = actual.filter((e) => Array.isArray(e) && e.length > 1 && typeof e[e.length - 1] === 'object' && 'ok' in (e[e.length - 1] as object)).length;
      t.log(`${landed} of ${actual.length - 1} calls succeeded`);
      t.true(landed > actual.length / 2, `${landed} calls succeeded`);
      // Spot checks, on the host: the writes through 'etc -> /' and 'up -> ../../..' are in ROOT.
      t.is(nodeFs.readFileSync(path.join(j.root, PROBE), 'utf8'), 'through etc');
      t.is(nodeFs.readFileSync(path.join(j.root, `${PROBE}-up`), 'utf8'), 'through up');
      t.true(nodeFs.statSync(path.join(j.root, `${PROBE}-mkdir`)).isDirectory());
      t.is(nodeFs.readFileSync(path.join(j.root, `${PROBE}-chain`), 'utf8'), 'through a chain');
      t.deepEqual(outsideState(j), before);
      assertNoProbes(t, j);
    } finally {
      j.dispose();
    }
  });
}

test('escape: hard links to outside files cannot be made; both names resolve inside the root', (t) => {
  const j = jail();
  try {
    const before = outsideState(j);
    const fs = j.fs as unknown as Fs;
    plantLinks(fs, j.top);
    for (const p of escaping(j.top).filter((p) => p !== '/abs' && p !== '/hostabs')) {
      t.is((t.throws(() => fs.linkSync(p, `/hard-${PROBE}`)) as Error & { code: string }).code, 'ENOENT', p);
    }
    // Linking the link itself is allowed (link(2) does not follow): it stays a link, in the root.
    fs.linkSync('/hostabs', '/hard-to-link');
    t.true(nodeFs.lstatSync(path.join(j.root, 'hard-to-link')).isSymbolicLink());
    t.is(nodeFs.lstatSync(path.join(j.root, 'hostabs')).nlink, 2);
    t.deepEqual(outsideState(j), before);
  } finally {
    j.dispose();
  }
});

test('escape: a directory or a last name swapped for an escaping link by another thread during the calls is never followed outside', async (t) => {
  const j = jail();
  try {
    const before = outsideState(j);
    const fs = j.fs as unknown as Fs;
    fs.mkdirSync('/sw');
    fs.writeFileSync('/sw/sentinel', 'inside');
    // On the host 'sw.lnk' leads to top/outside; swapped with the directory 'sw' as fast as possible.
    nodeFs.symlinkSync('../outside', path.join(j.root, 'sw.lnk'));
    // And a last name: the file 'last' swapped with a link that leads the host to top/outside/sentinel.
    fs.mkdirSync('/st');
    fs.writeFileSync('/st/last', 'inside');
    nodeFs.symlinkSync('../../outside/sentinel', path.join(j.root, 'st', 'last.lnk'));
    // [0]: stop flag, [1]: swaps done. The race runs for so many swaps, not for so many ms.
    const stop = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(
      `
      const { renameSync } = require('node:fs');
      const { workerData: { root, stop } } = require('node:worker_threads');
      const at = (n) => root + '/' + n;
      let swaps = 0;
      while (Atomics.load(stop, 0) === 0) {
        try {
          renameSync(at('sw'), at('sw.dir'));
          renameSync(at('sw.lnk'), at('sw'));
          renameSync(at('sw'), at('sw.lnk'));
          renameSync(at('sw.dir'), at('sw'));
          swaps++;
          Atomics.store(stop, 1, swaps);
        } catch {}
        try {
          renameSync(at('st/last'), at('st/last.file'));
          renameSync(at('st/last.lnk'), at('st/last'));
          renameSync(at('st/last'), at('st/last.lnk'));
          renameSync(at('st/last.file'), at('st/last'));
        } catch {}
      }
      require('node:worker_threads').parentPort.postMessage(swaps);
    `,
      { eval: true, workerData: { root: j.root, stop } },
    );
    const swaps = new Promise<number>((resolve) => worker.once('message', resolve));
    await new Promise((resolve) => worker.once('online', resolve));
    const seen = new Set<string>();
    let calls = 0;
    for (let i = 0; i < 100 || Atomics.load(stop, 1) < 50; i++) {
      const attempts: Array<() => unknown> = [
        () => seen.add(fs.readFileSync('/sw/sentinel', 'latin1')),
        () => fs.writeFileSync('/sw/sentinel', `race ${i}`),
        () => fs.appendFileSync('/sw/sentinel', '+'),
        () => fs.truncateSync('/sw/sentinel', 2),
        () => fs.chmodSync('/sw/sentinel', 0o666),
        () => fs.chownSync('/sw/sentinel', 4242, 4242),
        () => fs.utimesSync('/sw/sentinel', 5, 5),
        () => fs.linkSync('/sw/sentinel', `/sw/hard-${i}`),
        () => fs.renameSync('/sw/sentinel', '/sw/sentinel'),
        () => fs.mkdirSync(`/sw/${PROBE}-${i}`),
        () => fs.symlinkSync('x', `/sw/${PROBE}-l${i}`),
        () => fs.unlinkSync('/sw/to-sentinel'),
        () => seen.add(fs.readdirSync('/sw').join()),
        () => fs.rmSync(`/sw/dir`, { recursive: true }),
        () => seen.add(fs.readFileSync('/st/last', 'latin1')),
        () => fs.writeFileSync('/st/last', `race ${i}`),
        () => fs.appendFileSync('/st/last', '+'),
        () => fs.truncateSync('/st/last', 1),
        () => fs.chmodSync('/st/last', 0o666),
        () => fs.chownSync('/st/last', 4242, 4242),
        () => fs.utimesSync('/st/last', 5, 5),
        () => fs.accessSync('/st/last', C.W_OK),
      ];
      for (const a of attempts) {
        try {
          a();
          calls++;
        } catch {
          // ENOENT while the link is in place (it leads to ROOT/outside, which does not exist).
        }
      }
    }
    Atomics.store(stop, 0, 1);
    t.true((await swaps) > 10, 'the other thread swapped');
    await worker.terminate();
    t.true(calls > 10, `calls got through (${calls})`);
    t.log(`${calls} calls succeeded during ${await swaps} swaps`);
    t.false([...seen].some((s) => s.includes('SECRET') || s.includes('to-sentinel')));
    t.deepEqual(outsideState(j), before);
    assertNoProbes(t, j);
  } finally {
    j.dispose();
  }
});

// Random sequences with hostile link targets: HostCore against MemfsCore (the chroot model).
const name = fc.constantFrom('a', 'b', 'outside');
const rel = fc.tuple(fc.array(name, { minLength: 1, maxLength: 3 }), fc.constantFrom('', '', '/', '/..', '/../..')).map(([names, tail]) => names.join('/') + tail);
const hostile = (top: string) =>
  fc.oneof(rel, fc.constantFrom('/', '..', '../..', '../../..', '/outside', '../outside/sentinel', 'a/../../..', `${top}/outside`, `${top}/outside/sentinel`, '.', 'a/..', '/a/b'));
const P = (p: string) => ({ path: p });
const flavour = fc.constantFrom<Flavour>('sync', 'callback', 'promise');
const ops = (top: string) =>
  fc.array(
    fc.oneof(
      fc.record({ fn: fc.constantFrom('writeFile', 'appendFile'), args: fc.tuple(rel.map(P), fc.constantFrom('x', 'hello')), flavour }),
      fc.record({ fn: fc.constantFrom('readFile', 'readdir', 'stat', 'lstat', 'realpath', 'readlink', 'unlink', 'rmdir'), args: fc.tuple(rel.map(P)), flavour }),
      fc.record({
        fn: fc.constant('mkdir'),
        args: fc.tuple(
          rel.map(P),
          fc.boolean().map((recursive) => ({ recursive })),
        ),
        flavour,
      }),
      fc.record({ fn: fc.constant('rm'), args: fc.tuple(rel.map(P), fc.constant({ recursive: true, force: true })), flavour }),
      fc.record({ fn: fc.constantFrom('rename', 'link', 'copyFile'), args: fc.tuple(rel.map(P), rel.map(P)), flavour }),
      fc.record({ fn: fc.constant('symlink'), args: fc.tuple(hostile(top), rel.map(P)), flavour }),
      fc.record({ fn: fc.constant('truncate'), args: fc.tuple(rel.map(P), fc.constant(1)), flavour }),
      fc.record({ fn: fc.constant('chmod'), args: fc.tuple(rel.map(P), fc.constant(0o600)), flavour }),
      fc.record({ fn: fc.constantFrom('chown', 'lchown'), args: fc.tuple(rel.map(P), fc.constant(4242), fc.constant(4242)), flavour }),
      fc.record({ fn: fc.constantFrom('utimes', 'lutimes'), args: fc.tuple(rel.map(P), fc.constant(5), fc.constant(6)), flavour }),
    ),
    { minLength: 1, maxLength: 12 },
  );

test('escape: random sequences with absolute, ".." and host-path link targets agree with the chroot model and leave the outside alone', async (t) => {
  const j = jail();
  const before = outsideState(j);
  let runs = 0;
  try {
    const result = await fc.check(
      fc.asyncProperty(ops(j.top), async (seq) => {
        runs++;
        // A fresh root for each sequence: the jail's root emptied (through the host fs, not the core).
        for (const n of nodeFs.readdirSync(j.root)) nodeFs.rmSync(path.join(j.root, n), { recursive: true, force: true });
        const model = memfsSide();
        for (const [i, o] of seq.entries()) {
          const args = (s: Side) => o.args.map((a) => (a && typeof a === 'object' && 'path' in a ? s.p((a as { path: string }).path) : a));
          const got = JSON.stringify({ out: await call(j.side, o.flavour, o.fn, ...args(j.side)), tree: snapshot(j.side) });
          const want = JSON.stringify({ out: await call(model, o.flavour, o.fn, ...args(model)), tree: snapshot(model) });
          if (got !== want) throw new Error(`step ${i} ${JSON.stringify(o)}\n  host:   ${got}\n  chroot: ${want}`);
        }
        return true;
      }),
      { numRuns: Number(process.env.FS_RANDOM_RUNS ?? 150), seed: Number(process.env.FS_RANDOM_SEED ?? 20240611) },
    );
    if (result.failed) t.fail(`${result.errorInstance}\nshrunk to ${JSON.stringify(result.counterexample)}`);
    t.true(runs > 0);
    t.deepEqual(outsideState(j), before);
  } finally {
    j.dispose();
  }
});

test('escape: long paths, deep link chains and loops fail as the kernel fails them', (t) => {
  const j = jail();
  try {
    const fs = j.fs as unknown as Fs;
    const code = (f: () => unknown) => (t.throws(f) as Error & { code: string }).code;
    t.is(
      code(() => fs.statSync(`/${'a/'.repeat(2048)}`)),
      'ENAMETOOLONG',
    );
    t.is(
      code(() => fs.statSync(`/${'x'.repeat(256)}`)),
      'ENAMETOOLONG',
    );
    fs.writeFileSync('/l0', 'end');
    for (let i = 1; i <= 41; i++) fs.symlinkSync(`l${i - 1}`, `/l${i}`);
    t.is(fs.readFileSync('/l40', 'utf8'), 'end');
    t.is(
      code(() => fs.readFileSync('/l41')),
      'ELOOP',
    );
    fs.symlinkSync('self/self', '/self');
    t.is(
      code(() => fs.statSync('/self')),
      'ELOOP',
    );
    t.is(
      code(() => fs.openSync('/l1', C.O_RDONLY | C.O_NOFOLLOW)),
      'ELOOP',
    );
  } finally {
    j.dispose();
  }
});

test('DKR-3 bind mount: descriptors are per core, closeAll closes them, a replaced root is gone, a missing root refuses to start', (t) => {
  const j = jail();
  try {
    const other = new HostCore(j.root);
    const a = j.core.open('/f', C.O_CREAT | C.O_RDWR, 0o644);
    const b = other.open('/f', C.O_RDONLY, 0);
    t.is(a, 3);
    t.is(b, 3);
    t.is(j.core.open('/f', C.O_RDONLY, 0), 4);
    j.core.write(a, Buffer.from('shared'), 0, 6, null);
    const buf = Buffer.alloc(6);
    t.is(other.read(b, buf, 0, 6, 0), 6);
    t.is(buf.toString(), 'shared');
    other.close(b);
    t.throws(() => other.fstat(b), { code: 'EBADF' });
    t.is(j.core.fstat(a).size, 6);
    const openOnF = () =>
      nodeFs.readdirSync('/proc/self/fd').filter((n) => {
        try {
          return nodeFs.readlinkSync(`/proc/self/fd/${n}`) === path.join(j.root, 'f');
        } catch {
          return false;
        }
      }).length;
    t.is(openOnF(), 2);
    j.core.closeAll();
    t.is(openOnF(), 0);
    t.like(
      t.throws(() => j.core.fstat(a)),
      { code: 'EBADF', syscall: 'fstat' },
    );
    // The root directory replaced on the host (as when a bind source is deleted): ENOENT, not the new one.
    nodeFs.renameSync(j.root, `${j.root}.old`);
    nodeFs.mkdirSync(j.root);
    nodeFs.writeFileSync(path.join(j.root, 'f'), 'new');
    t.throws(() => j.fs.readFileSync('/f'), { code: 'ENOENT' });
    t.throws(() => new HostCore(path.join(j.top, 'missing')), { code: 'ENOENT' });
  } finally {
    j.dispose();
  }
});

/** The read-only fixture, made on the host: d/, e/x, f, lf -> f, dl -> nowhere, fifo. */
function roFixture(): { dir: string; fs: Fs; core: HostCore; dispose(): void } {
  const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'layerfs-ro-'));
  nodeFs.mkdirSync(path.join(dir, 'd'));
  nodeFs.mkdirSync(path.join(dir, 'e'));
  nodeFs.writeFileSync(path.join(dir, 'e', 'x'), '');
  nodeFs.writeFileSync(path.join(dir, 'f'), 'hi\n');
  nodeFs.symlinkSync('f', path.join(dir, 'lf'));
  nodeFs.symlinkSync('nowhere', path.join(dir, 'dl'));
  execFileSync('mkfifo', [path.join(dir, 'fifo')]);
  const core = new HostCore(dir, { readOnly: true });
  return {
    dir,
    core,
    fs: createFs(core) as unknown as Fs,
    dispose: () => {
      core.closeAll();
      nodeFs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Each call and what a read-only tmpfs answered (code and syscall; 'ok' when it succeeded). */
const RO_CASES: Array<[string, (fs: Fs) => unknown, string]> = [
  ['unlink missing', (fs) => fs.unlinkSync('/missing'), 'EROFS unlink'],
  ['unlink dir', (fs) => fs.unlinkSync('/d'), 'EROFS unlink'],
  ['unlink .', (fs) => fs.unlinkSync('/d/.'), 'EISDIR unlink'],
  ['unlink missing/x', (fs) => fs.unlinkSync('/missing/x'), 'ENOENT unlink'],
  ['unlink f/x', (fs) => fs.unlinkSync('/f/x'), 'ENOTDIR unlink'],
  ['unlink f/', (fs) => fs.unlinkSync('/f/'), 'EROFS unlink'],
  ['rmdir missing', (fs) => fs.rmdirSync('/missing'), 'EROFS rmdir'],
  ['rmdir f', (fs) => fs.rmdirSync('/f'), 'EROFS rmdir'],
  ['rmdir e', (fs) => fs.rmdirSync('/e'), 'EROFS rmdir'],
  ['rmdir d/.', (fs) => fs.rmdirSync('/d/.'), 'EINVAL rmdir'],
  ['rmdir d/..', (fs) => fs.rmdirSync('/d/..'), 'ENOTEMPTY rmdir'],
  ['rmdir /', (fs) => fs.rmdirSync('/'), 'EBUSY rmdir'],
  ['mkdir f', (fs) => fs.mkdirSync('/f'), 'EEXIST mkdir'],
  ['mkdir new', (fs) => fs.mkdirSync('/new'), 'EROFS mkdir'],
  ['mkdir new/', (fs) => fs.mkdirSync('/new/'), 'EROFS mkdir'],
  ['mkdir missing/x', (fs) => fs.mkdirSync('/missing/x'), 'ENOENT mkdir'],
  ['mkdir d/.', (fs) => fs.mkdirSync('/d/.'), 'EEXIST mkdir'],
  ['symlink new/', (fs) => fs.symlinkSync('x', '/new/'), 'ENOENT symlink'],
  ['symlink new', (fs) => fs.symlinkSync('x', '/new'), 'EROFS symlink'],
  ['symlink empty', (fs) => fs.symlinkSync('', '/new'), 'ENOENT symlink'],
  ['symlink exist', (fs) => fs.symlinkSync('x', '/f'), 'EEXIST symlink'],
  ['link missing', (fs) => fs.linkSync('/missing', '/new'), 'ENOENT link'],
  ['link d new', (fs) => fs.linkSync('/d', '/new'), 'EROFS link'],
  ['link f lf', (fs) => fs.linkSync('/f', '/lf'), 'EEXIST link'],
  ['link f new/', (fs) => fs.linkSync('/f', '/new/'), 'ENOENT link'],
  ['rename missing', (fs) => fs.renameSync('/missing', '/new'), 'EROFS rename'],
  ['rename missing parent', (fs) => fs.renameSync('/f', '/missing/new'), 'ENOENT rename'],
  ['rename f f', (fs) => fs.renameSync('/f', '/f'), 'EROFS rename'],
  ['rename d/. x', (fs) => fs.renameSync('/d/.', '/x'), 'EBUSY rename'],
  ['chmod missing', (fs) => fs.chmodSync('/missing', 0o600), 'ENOENT chmod'],
  ['chmod f', (fs) => fs.chmodSync('/f', 0o600), 'EROFS chmod'],
  ['chmod dl', (fs) => fs.chmodSync('/dl', 0o600), 'ENOENT chmod'],
  ['chown f', (fs) => fs.chownSync('/f', 0, 0), 'EROFS chown'],
  ['lchown lf', (fs) => fs.lchownSync('/lf', 0, 0), 'EROFS lchown'],
  ['utimes f', (fs) => fs.utimesSync('/f', 1, 1), 'EROFS utime'],
  ['lutimes lf', (fs) => fs.lutimesSync('/lf', 1, 1), 'EROFS lutime'],
  ['truncate f', (fs) => fs.truncateSync('/f', 0), 'EROFS open'],
  ['truncate d', (fs) => fs.truncateSync('/d', 0), 'EISDIR open'],
  ['open f r', (fs) => fs.closeSync(fs.openSync('/f', 'r')), 'ok'],
  ['open f r+', (fs) => fs.openSync('/f', 'r+'), 'EROFS open'],
  ['open f w', (fs) => fs.openSync('/f', 'w'), 'EROFS open'],
  ['open new w', (fs) => fs.openSync('/new', 'w'), 'EROFS open'],
  ['open new wx', (fs) => fs.openSync('/new', 'wx'), 'EROFS open'],
  ['open f wx', (fs) => fs.openSync('/f', 'wx'), 'EEXIST open'],
  ['open f O_CREAT|RDONLY', (fs) => fs.closeSync(fs.openSync('/f', C.O_CREAT)), 'ok'],
  ['open new O_CREAT|RDONLY', (fs) => fs.openSync('/new', C.O_CREAT), 'EROFS open'],
  ['open f O_TRUNC|RDONLY', (fs) => fs.openSync('/f', C.O_TRUNC), 'EROFS open'],
  ['open d w', (fs) => fs.openSync('/d', 'w'), 'EISDIR open'],
  ['open d O_CREAT', (fs) => fs.openSync('/d', C.O_CREAT), 'EISDIR open'],
  ['open new/ w', (fs) => fs.openSync('/new/', 'w'), 'EISDIR open'],
  ['open missing/x w', (fs) => fs.openSync('/missing/x', 'w'), 'ENOENT open'],
  ['open dl w', (fs) => fs.openSync('/dl', 'w'), 'EROFS open'],
  ['open fifo r+', (fs) => fs.closeSync(fs.openSync('/fifo', 'r+')), 'ok'],
  ['access f W', (fs) => fs.accessSync('/f', C.W_OK), 'EROFS access'],
  ['access fifo W', (fs) => fs.accessSync('/fifo', C.W_OK), 'ok'],
  ['access f R', (fs) => fs.accessSync('/f', C.R_OK), 'ok'],
  // Node's calls built on these (recursive mkdir reports ENOENT there too).
  ['writeFile f', (fs) => fs.writeFileSync('/f', 'x'), 'EROFS open'],
  ['appendFile new', (fs) => fs.appendFileSync('/new', 'x'), 'EROFS open'],
  ['mkdir -p a/b/c', (fs) => fs.mkdirSync('/a/b/c', { recursive: true }), 'ENOENT mkdir'],
  ['mkdir -p d', (fs) => fs.mkdirSync('/d', { recursive: true }), 'ok'],
  ['mkdir -p d/n', (fs) => fs.mkdirSync('/d/n', { recursive: true }), 'ENOENT mkdir'],
  ['rm -r e', (fs) => fs.rmSync('/e', { recursive: true }), 'EROFS rmdir'],
  ['copyFile f g', (fs) => fs.copyFileSync('/f', '/g'), 'EROFS copyfile'],
  ['mkdtemp d/tmp-', (fs) => fs.mkdtempSync('/d/tmp-'), 'EROFS mkdtemp'],
];

test('DKR-5 read-only bind mount: every change is EROFS, after the lookups the kernel makes first', (t) => {
  const ro = roFixture();
  try {
    const before = outsideState({ top: ro.dir, root: '' });
    const got = RO_CASES.map(([label, f]) => {
      try {
        f(ro.fs);
        return [label, 'ok'];
      } catch (e) {
        const err = e as Error & { code: string; syscall: string };
        return [label, `${err.code} ${err.syscall}`];
      }
    });
    t.deepEqual(
      got,
      RO_CASES.map(([label, , want]) => [label, want]),
    );
    // Descriptors: those that change metadata are EROFS; one opened read-only cannot write or truncate.
    const fd = ro.fs.openSync('/f', 'r');
    const code = (f: () => unknown) => `${(t.throws(f) as Error & { code: string }).code}`;
    t.is(
      code(() => ro.fs.fchmodSync(fd, 0o600)),
      'EROFS',
    );
    t.is(
      code(() => ro.fs.fchownSync(fd, 0, 0)),
      'EROFS',
    );
    t.is(
      code(() => ro.fs.futimesSync(fd, 1, 1)),
      'EROFS',
    );
    t.is(
      code(() => ro.fs.ftruncateSync(fd, 0)),
      'EINVAL',
    );
    t.is(
      code(() => ro.fs.writeSync(fd, 'x')),
      'EBADF',
    );
    ro.fs.fsyncSync(fd);
    ro.fs.closeSync(fd);
    t.deepEqual(outsideState({ top: ro.dir, root: '' }), before);
  } finally {
    ro.dispose();
  }
});

test('DKR-5 read-only bind mount: reads work', async (t) => {
  const ro = roFixture();
  try {
    const fs = ro.fs;
    t.is(fs.readFileSync('/lf', 'utf8'), 'hi\n');
    t.is(await fs.promises.readFile('/f', 'utf8'), 'hi\n');
    t.deepEqual(fs.readdirSync('/').sort(), ['d', 'dl', 'e', 'f', 'fifo', 'lf']);
    t.deepEqual(
      fs
        .readdirSync('/', { withFileTypes: true })
        .filter((d) => d.isFIFO())
        .map((d) => d.name),
      ['fifo'],
    );
    t.true(fs.statSync('/d/').isDirectory());
    t.true(fs.lstatSync('/lf').isSymbolicLink());
    t.is(fs.readlinkSync('/dl'), 'nowhere');
    t.is(fs.realpathSync('/lf'), '/f');
    t.true(fs.existsSync('/e/x'));
    fs.accessSync('/f', C.R_OK);
    const fd = fs.openSync('/f', 'r');
    const buf = Buffer.alloc(8);
    t.is(fs.readSync(fd, buf, 0, 8, 0), 3);
    t.is(fs.fstatSync(fd).size, 3);
    fs.closeSync(fd);
    const chunks: Buffer[] = [];
    for await (const c of fs.createReadStream('/f')) chunks.push(c as Buffer);
    t.is(Buffer.concat(chunks).toString(), 'hi\n');
  } finally {
    ro.dispose();
  }
});
