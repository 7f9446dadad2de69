/**
 * Invariants over random operation sequences (fast-check, seeded, bounded runs), for every copy-up
 * strategy ('full', 'metadata', 'chunked') and every mount kind a container has (root layer, named
 * volume, host bind, tmpfs through the Engine):
 *
 *  (a) lower layers are frozen: the sha256 of the image archive (and, for the engine, of the
 *      archive kept in the state) is the same before and after the run;
 *  (b) commit round-trips: the committed image (docker-archive, oci-archive or OCI layout), opened
 *      again, has the same `manifest()` as the view it came from (the manifest has no mtimes; commit
 *      leaves volumes, binds and tmpfs out, so for a container the root layer's view is compared);
 *  (c) diff agrees with the trees: every path of the merged tree whose manifest line (type, mode,
 *      owner, size, data, target) differs from the lower tree's, or that the lower tree lacks, is
 *      A or C in `diff()`; every lower path that is gone is D or lies under a D. By podman's rules
 *      (src/out/diff.ts) two refinements: a directory made where the lower tree had a file (or a
 *      directory removed and made again) is opaque and listed as D, not A/C; and a lower directory
 *      replaced by a file or symlink is C, its lower children gone without a D of their own. The linkgroup
 *      column is left out: copying up one name of a lower hard-link pair splits the pair (OVL-17),
 *      which changes the untouched alias's group without any change to that path. A directory whose
 *      owner alone changed (same mode and mtime) is not listed (podman compares no owner of a
 *      directory). And the other way:
 *      diff lists nothing unchanged: a listed path that no op named (nor anything below it), whose
 *      manifest line, mtime and ctime are the lower tree's, with no listed path below it and no D
 *      above it, is a false change (an op that names a path may copy it up without changing what
 *      the manifest shows, OVL-6, and podman lists every copied-up path);
 *  (d) no handle leaks: after the run closes the descriptors it opened, the union's open descriptor
 *      count is 0; after a container is closed, the process's /proc/self/fd count is back to what
 *      it was before the container was opened;
 *  (e) a container's layer is saved: the root layer's view, reopened after close, has the manifest
 *      the view had before close.
 *
 * Tests are serial: /proc/self/fd is per process, and ava runs a file's tests in one process.
 *
 * Ops may fail (ENOENT, EISDIR, EXDEV across mounts, ...): failures are part of the sequence, the
 * invariants must hold whatever happened. The ops come from the shared generator (test/ops/gen.ts)
 * aimed at the sample image's paths (held descriptors, O_PATH, odd symlink targets, root ops too),
 * each op run in a flavour drawn by the case (sync, callback, promise with FileHandles).
 * LAYERFS_INVARIANT_SEED / LAYERFS_INVARIANT_RUNS override; LAYERFS_INVARIANT_RUN=i replays run i.
 */
import test, { type ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine, openImage, type CopyUpStrategy, type View } from '../src/index.js';
import { caseSeed, genOps, Rng, type Kind, type Namespace } from './ops/gen.js';
import { describeOp, FLAVOURS, pathArgs, runOpsAsync, showResult, type Flavour, type FsLike, type Op } from './ops/ops.js';

const SAMPLE = fileURLToPath(new URL('../images/sample.tar', import.meta.url));
const SEED = Number(process.env.LAYERFS_INVARIANT_SEED ?? 0x1b7a417);
const RUNS = Number(process.env.LAYERFS_INVARIANT_RUNS ?? 20);
const ONLY = process.env.LAYERFS_INVARIANT_RUN;
const STRATEGIES: CopyUpStrategy[] = ['full', 'metadata', 'chunked'];
const FORMATS = ['docker-archive', 'oci-archive', 'oci-layout'] as const;

const ROOT_PATHS = [
  '/etc',
  '/etc/motd',
  '/etc/app.conf',
  '/etc/new',
  '/usr/bin/app',
  '/usr/bin/app-link',
  '/usr/lib',
  '/usr/lib/libbig.so',
  '/usr/lib/libbig.so.1',
  '/var/cache/app',
  '/var/cache/app/fresh',
  '/new',
  '/new/f',
  '/tmp/t',
];
/** Engine containers: a named volume, a host bind and a tmpfs, plus the image's VOLUME /srv/www (anonymous). */
const MOUNT_PATHS = ['/vol', '/vol/a', '/vol/d', '/vol/d/b', '/bind/a', '/bind/d', '/bind/d/b', '/scratch/a', '/scratch/d', '/srv/www/index.html', '/srv/www/x'];

/** Symlink targets: relative, absolute (they stay in the view), climbing, dangling, odd ones (OVL-25). */
const TARGETS = ['motd', '../etc', '/etc/motd', '../../../..', 'nowhere', 'motd/', '../etc/', 'é中', '/usr/lib/libbig.so'];

/**
 * The shared generator (test/ops/gen.ts) aimed at `paths`: what exists is read from `fs`, with
 * the sample image's write positions (inside and past the first chunk, past the end) and truncate
 * lengths. Descriptors are held across later ops, also after their name is unlinked or renamed.
 */
function genFor(fs: Fs, paths: string[], r: Rng): Op[] {
  const known = new Map<string, Kind>();
  for (const p of paths) {
    for (let q = p; q !== '/' && q !== ''; q = q.slice(0, q.lastIndexOf('/')) || '/') {
      try {
        const st = fs.lstatSync(q);
        known.set(q, st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : 'file');
      } catch {
        /* not there (yet) */
      }
    }
  }
  const ns: Namespace = {
    names: paths,
    known,
    targets: TARGETS,
    positions: [0, 3, 4095, 4096, 70_000, 1_048_570],
    lengths: [0, 5, 5000, 2_000_000],
    data: (g) => g.pick(['', 'x', 'hello', `w${g.int(100)}`, 'é中', 'z'.repeat(40)]),
  };
  return genOps(r, ns, { minOps: 1, maxOps: 25 });
}

type Fs = View['fs'];

/**
 * Runs ops (their failures are part of the sequence), each in a flavour drawn from `r` (sync,
 * callback, promise with FileHandles); only Node-shaped fs errors are expected.
 */
async function runAll(fs: Fs, ops: Op[], r: Rng): Promise<string | undefined> {
  const flavours: Flavour[] = ops.map(() => r.pick(FLAVOURS));
  const results = await runOpsAsync(fs as unknown as FsLike, '/', ops, (k) => flavours[k]);
  const odd = results.findIndex((r) => 'err' in r && /^(THROW|NOIMPL)\(/.test(r.err));
  return odd < 0 ? undefined : `op ${odd} [${flavours[odd]}] (${describeOp(ops[odd])}) threw no fs error: ${showResult(results[odd])}`;
}

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
/** sha of a file, or of every file under a directory with its name (a stored image's directory over the blob store). */
const treeSha = (path: string): string =>
  statSync(path).isDirectory()
    ? sha256Of(
        (readdirSync(path, { recursive: true }) as string[])
          .sort()
          .filter((n) => statSync(join(path, n)).isFile())
          .map((n) => `${n} ${sha(join(path, n))}`)
          .join('\n'),
      )
    : sha(path);
const sha256Of = (text: string): string => createHash('sha256').update(text).digest('hex');
const fdCount = (): number => readdirSync('/proc/self/fd').length;

/** path → manifest line without the linkgroup column (see (c) above). */
function manifestMap(m: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of m.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cols = line.split('\t');
    cols.splice(8, 1);
    out.set(cols[0], cols.join('\t'));
  }
  return out;
}

/**
 * Every path an op names (whether or not the op succeeded), and where it leads through symlinks in
 * the lower tree and in the merged one (writing through a link copies up its target).
 */
function namedBy(ops: Op[], ...trees: Fs[]): string[] {
  const named = ops.flatMap((o) => pathArgs(o).map((a) => a.path));
  const resolved = named.flatMap((p) =>
    trees.flatMap((fs) => {
      try {
        return [fs.realpathSync(p)];
      } catch {
        return [];
      }
    }),
  );
  return [...named, ...resolved];
}

/** path → "mtimeMs ctimeMs" of each path of a manifest, read through `fs` (lstat). */
function timesOf(fs: Fs, manifest: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of manifestMap(manifest).keys()) {
    try {
      const st = fs.lstatSync(p);
      out.set(p, `${st.mtimeMs} ${st.ctimeMs}`);
    } catch {
      /* an escaped name: no time, never judged unchanged */
    }
  }
  return out;
}

/** Two manifest lines equal but for the columns `skip`. */
function sameBut(a: string, b: string, skip: number[]): boolean {
  const x = a.split('\t');
  const y = b.split('\t');
  return x.length === y.length && x.every((c, i) => skip.includes(i) || c === y[i]);
}

/** Invariant (c); returns the problems found. */
function diffProblems(lower: string, merged: string, diff: Array<{ kind: string; path: string }>, lowerTimes: Map<string, string>, mergedTimes: Map<string, string>, named: string[]): string[] {
  const lo = manifestMap(lower);
  const me = manifestMap(merged);
  const kind = new Map(diff.map((c) => [c.path, c.kind]));
  const deleted = diff.filter((c) => c.kind === 'D').map((c) => c.path);
  const problems: string[] = [];
  for (const [p, line] of me) {
    if (lo.get(p) === line) continue;
    const k = kind.get(p);
    // podman: a directory made where the lower tree had something else is an opaque directory, D.
    const replacedByDir = k === 'D' && lo.has(p) && line.split('\t')[1] === 'd';
    // podman: a directory below with the same type, mode and mtime is no change (an owner change
    // alone is not listed; containers/storage compares only mode, size and mtime of directories).
    const ownerOnly = k === undefined && lo.has(p) && sameBut(lo.get(p)!, line, [3, 4]) && line.split('\t')[1] === 'd' && lowerTimes.get(p)?.split(' ')[0] === mergedTimes.get(p)?.split(' ')[0];
    if (k !== 'A' && k !== 'C' && !replacedByDir && !ownerOnly) problems.push(`${p} ${lo.has(p) ? 'changed' : 'added'} but diff says ${k ?? 'nothing'}`);
  }
  // podman: a lower directory replaced by a non-directory is C (or A) and nothing below it is listed.
  const replacedByNonDir = diff.filter((c) => c.kind !== 'D' && lo.get(c.path)?.split('\t')[1] === 'd' && me.has(c.path) && me.get(c.path)!.split('\t')[1] !== 'd').map((c) => c.path);
  for (const p of lo.keys()) {
    if (me.has(p)) continue;
    if (!deleted.some((d) => p === d || p.startsWith(d + '/')) && !replacedByNonDir.some((d) => p.startsWith(d + '/'))) {
      problems.push(`${p} is gone but not D, nor under a D, nor under a directory replaced by a non-directory`);
    }
  }
  // Nothing unchanged is listed: no op named it or anything below it, same line, same mtime and
  // ctime, nothing listed below it (a parent of a change is C), and no D above it (the new children
  // of a recreated, opaque directory are A whatever they hold).
  for (const c of diff) {
    const p = c.path;
    if (named.some((n) => n === p || n.startsWith(p === '/' ? '/' : p + '/'))) continue;
    if (!lo.has(p) || lo.get(p) !== me.get(p)) continue;
    const lt = lowerTimes.get(p);
    if (lt === undefined || lt !== mergedTimes.get(p)) continue;
    if (diff.some((o) => o.path.startsWith(p === '/' ? '/' : p + '/') && o.path !== p)) continue;
    if (deleted.some((d) => p !== d && p.startsWith(d + '/'))) continue;
    problems.push(`${p} is unchanged (manifest line, mtime and ctime of the lower tree) but diff lists it as ${c.kind}`);
  }
  return problems;
}

/** (b): commit the view, reopen, compare manifests. */
async function roundTrip(view: View, dir: string, format: (typeof FORMATS)[number]): Promise<string | undefined> {
  const dest = join(dir, `commit-${format}${format === 'oci-layout' ? '' : '.tar'}`);
  rmSync(dest, { recursive: true, force: true });
  try {
    await view.commit(dest, { format });
  } catch (e) {
    // OCI-8: names starting with .wh. cannot be committed (the op set never makes one).
    return `commit threw: ${(e as Error).message}`;
  }
  const back = await openImage(dest);
  try {
    const a = view.manifest();
    const b = back.manifest();
    return a === b ? undefined : `manifest after commit (${format}) differs:\n--- view\n${a}\n--- committed\n${b}`;
  } finally {
    back.close();
  }
}

let tmpRoot: string;
test.before(() => {
  tmpRoot = mkdtempSync(join(tmpdir(), 'layerfs-invariants-'));
});
test.after.always(() => {
  rmSync(tmpRoot, { recursive: true, force: true });
});

for (const strategy of STRATEGIES) {
  test.serial(`view (copyUp=${strategy}): lower frozen, commit round-trips, diff matches the trees, no open descriptors left`, async (t) => {
    const dir = mkdtempSync(join(tmpRoot, `view-${strategy}-`));
    const image = join(dir, 'image.tar');
    cpSync(SAMPLE, image);
    const before = sha(image);
    const base = await openImage(image);
    const lower = base.manifest();
    const lowerTimes = timesOf(base.fs, lower);
    const lowerFs = base.fs;
    const fd0 = fdCount();
    const runs = await forRuns(t, SEED, RUNS, async (r, fail) => {
      const format = r.pick(FORMATS);
      const view = await openImage(image, { copyUp: strategy });
      const ops = genFor(view.fs, ROOT_PATHS, r);
      try {
        const odd = await runAll(view.fs, ops, r);
        if (odd) return fail(t, ops, odd);
        if (view.core.files.openCount !== 0) return fail(t, ops, `open descriptors after closing all: ${view.core.files.openCount}`);
        const merged = view.manifest();
        const problems = diffProblems(lower, merged, view.diff(), lowerTimes, timesOf(view.fs, merged), namedBy(ops, lowerFs, view.fs));
        if (problems.length) return fail(t, ops, `diff vs trees:\n${problems.join('\n')}\ndiff: ${JSON.stringify(view.diff())}`);
        const rt = await roundTrip(view, dir, format);
        if (rt) return fail(t, ops, rt);
      } finally {
        view.close();
      }
      if (sha(image) !== before) return fail(t, ops, 'the image archive changed');
      return true;
    });
    t.is(sha(image), before);
    t.is(fdCount(), fd0, '/proc/self/fd back to its start after every view is closed');
    base.close();
    t.log(`${runs} runs, seed ${SEED}`);
  });

  test.serial(`engine container (copyUp=${strategy}; root, volume, bind, tmpfs): lower frozen, commit round-trips, diff matches, fds back`, async (t) => {
    const dir = mkdtempSync(join(tmpRoot, `engine-${strategy}-`));
    const home = join(dir, 'home');
    const bindDir = join(dir, 'bind');
    mkdirSync(bindDir);
    const image = join(dir, 'image.tar');
    cpSync(SAMPLE, image);
    const before = sha(image);
    const engine = await Engine.open({ home, copyUp: strategy });
    const img = await engine.load(image);
    const stored = engine.state.imageArchive(img.id);
    const storedBefore = treeSha(stored);
    const base = await openImage(image);
    const lower = base.manifest();
    const lowerTimes = timesOf(base.fs, lower);
    const lowerFs = base.fs;
    let n = 0;
    const runs = await forRuns(t, SEED + 1, Math.max(4, Math.ceil(RUNS / 2)), async (r, fail) => {
      const format = r.pick(FORMATS);
      const name = `c${n++}`;
      await engine.create(img.id, {
        name,
        mounts: [
          { type: 'volume', source: `vol-${name}`, target: '/vol' },
          { type: 'bind', source: bindDir, target: '/bind' },
          { type: 'tmpfs', target: '/scratch' },
        ],
      });
      const fd0 = fdCount();
      let beforeClose = '';
      const c = await engine.open(name);
      const ops = genFor(c.fs, [...ROOT_PATHS.slice(0, 8), ...MOUNT_PATHS], r);
      try {
        const odd = await runAll(c.fs, ops, r);
        if (odd) return fail(t, ops, odd);
        if (c.view.core.files.openCount !== 0) return fail(t, ops, `root layer descriptors open after closing all: ${c.view.core.files.openCount}`);
        // The root layer's view: volumes, binds, tmpfs are not part of diff or commit.
        const merged = stripMounted(c.view.manifest());
        const problems = diffProblems(
          stripMounted(lower),
          merged,
          c.view.diff().filter((d) => !isMounted(d.path) || MOUNTED.includes(d.path)),
          lowerTimes,
          timesOf(c.view.fs, merged),
          namedBy(ops, lowerFs, c.view.fs),
        );
        if (problems.length) return fail(t, ops, `diff vs trees:\n${problems.join('\n')}`);
        const rt = await roundTrip(c.view, dir, format);
        if (rt) return fail(t, ops, rt);
        beforeClose = c.view.manifest();
      } finally {
        await c.close();
      }
      if (fdCount() !== fd0) return fail(t, ops, `/proc/self/fd: ${fd0} before open, ${fdCount()} after close`);
      // (e) The saved container layer reopens to the tree the view had before close.
      const again = await engine.open(name);
      const reopened = again.view.manifest();
      again.dispose();
      if (reopened !== beforeClose) return fail(t, ops, `container layer after save and reopen differs from the view before close:\n--- before close\n${beforeClose}\n--- reopened\n${reopened}`);
      await engine.rm(name, { volumes: true });
      await engine.volumeRm(`vol-${name}`);
      if (sha(image) !== before || treeSha(stored) !== storedBefore) return fail(t, ops, 'an image archive changed');
      return true;
    });
    base.close();
    t.is(sha(image), before);
    t.is(treeSha(stored), storedBefore);
    t.log(`${runs} runs, seed ${SEED + 1}`);
  });
}

/** Mount points of the engine case: below them the root layer is hidden. */
const MOUNTED = ['/vol', '/bind', '/scratch', '/srv/www'];
const isMounted = (p: string): boolean => MOUNTED.some((m) => p === m || p.startsWith(m + '/'));
/** Drop what lies below mount points (the root layer's content there is what the image had). */
function stripMounted(m: string): string {
  return m
    .split('\n')
    .filter((l) => !isMounted(l.split('\t')[0]) || MOUNTED.includes(l.split('\t')[0]))
    .join('\n');
}

type Fail = (t: { log: (...a: unknown[]) => void }, ops: Op[], why: string) => false;

/**
 * Runs `property` for runs 0..n-1 of `seed` (or only LAYERFS_INVARIANT_RUN), each with its own
 * generator; the first failing run fails the test with its seed, ops and a replay line.
 */
async function forRuns(t: ExecutionContext, seed: number, n: number, property: (r: Rng, fail: Fail) => Promise<boolean>): Promise<number> {
  const indices = ONLY !== undefined ? [Number(ONLY)] : Array.from({ length: n }, (_, i) => i);
  for (const i of indices) {
    const fail: Fail = (tt, ops, why) => {
      tt.log(
        `${why}\nops: ${JSON.stringify(ops)}\nreplay: LAYERFS_INVARIANT_SEED=${SEED} LAYERFS_INVARIANT_RUN=${i} npx ava test/invariants.test.ts --match '*${t.title.slice(0, 30).replace(/[*']/g, '')}*'`,
      );
      return false;
    };
    if (!(await property(new Rng(caseSeed(seed, i)), fail))) {
      t.fail(`run ${i} of seed ${seed} breaks an invariant; see the log`);
      return i + 1;
    }
  }
  return indices.length;
}
