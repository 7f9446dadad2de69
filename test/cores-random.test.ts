/**
 * Seeded random op sequences (the shared language and generator, test/ops/) on the cores that are
 * not overlays, with the host filesystem as the oracle: HostCore (bind mounts, volumes), MemfsCore
 * (tmpfs) and the mount router (MountCore over a union root with a volume at /v, a bind at /b and a
 * tmpfs at /t; each case runs below one of them). Every side starts from the same random tree (a
 * directory on the host, copied into memfs as a volume is seeded) and gets the same ops, each step
 * in the same flavour (sync, callback, promise with FileHandles); per-op results and the final tree
 * (test/kernel/snapshot.ts) must be the host's.
 *
 * Safety: the host side runs in a temp directory. An op whose walk would leave it (an absolute
 * symlink target, '..' above its root) is skipped on every side, as is removing the root itself
 * (ops.ts `hostGuard`). Needs root (chown to other ids): skips visibly, fails in CI.
 *
 *   LAYERFS_CORES_SEED=n        run seed (default fixed)
 *   LAYERFS_CORES_CASES=n       number of cases (default 40; npm run test:slow runs more)
 *   LAYERFS_CORES_CASE=i        run only case i (replay)
 *   LAYERFS_CORES_KEEP_GOING=n  collect up to n differing cases before failing (triage)
 *
 * A differing case is shrunk (ops dropped while the same core still differs) and reported whole and shrunk.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Volume } from 'memfs';
import type { Core } from '../src/core/core.js';
import { createFs } from '../src/fs/node-fs.js';
import { openLayers } from '../src/index.js';
import { copyTree } from '../src/mounts/copy-tree.js';
import { HostCore } from '../src/mounts/host-core.js';
import { MemfsCore } from '../src/mounts/memfs-core.js';
import { MountCore } from '../src/mounts/router.js';
import { MountTable, type MountKind } from '../src/mounts/table.js';
import { requireOrSkip } from './helpers/require.js';
import { genTree, kernelNamespace } from './kernel/gen.js';
import { diffLines, mergedSnapshot } from './kernel/snapshot.js';
import { materializeLayer, type LayerSpec } from './kernel/spec.js';
import { caseSeed, genOps, Rng } from './ops/gen.js';
import { shrinkOps } from './ops/shrink.js';
import { describeOp, FLAVOURS, hostGuard, kernelFs, runOpsAsync, sameResult, shortJson, showResult, type Flavour, type FsLike, type Op, type Result } from './ops/ops.js';

const SEED = Number(process.env.LAYERFS_CORES_SEED ?? 0xc0de5);
const CASES = Number(process.env.LAYERFS_CORES_CASES ?? 40);
const ONLY = process.env.LAYERFS_CORES_CASE;
const KEEP_GOING = Number(process.env.LAYERFS_CORES_KEEP_GOING ?? 1);
const MOUNTS = [
  ['/v', 'volume'],
  ['/b', 'bind'],
  ['/t', 'tmpfs'],
] as const;

interface Sequence {
  tree: LayerSpec;
  ops: Op[];
  flavours: Flavour[];
}

function genSequence(i: number): Sequence {
  const r = new Rng(caseSeed(SEED, i));
  const tree = genTree(r);
  const ops = genOps(r, kernelNamespace([tree]), { maxOps: 14 });
  return { tree, ops, flavours: ops.map(() => r.pick(FLAVOURS)) };
}

interface Run {
  results: Result[];
  tree: string[];
}

async function run(fsx: FsLike, root: string, s: Sequence, opts: { guard?: (op: Op) => string | undefined; mirror?: Result[] }): Promise<Run> {
  const results = await runOpsAsync(fsx, root, s.ops, (k) => s.flavours[k], opts);
  return { results, tree: mergedSnapshot(fsx, root) };
}

async function hostTree(base: string, name: string, tree: LayerSpec): Promise<string> {
  const d = path.join(base, name);
  fs.mkdirSync(d);
  await materializeLayer(tree, d);
  return d;
}

async function memfsTree(base: string, name: string, tree: LayerSpec): Promise<MemfsCore> {
  const core = new MemfsCore(new Volume(), { umask: 0o022 });
  copyTree(new HostCore(await hostTree(base, name, tree)), '/', core, '/');
  return core;
}

/** Each side: its fs, the root the ops run below, and what to release. */
interface Side {
  label: string;
  fsx: FsLike;
  root: string;
  close(): void;
}

async function sides(base: string, s: Sequence, i: number): Promise<Side[]> {
  const host = new HostCore(await hostTree(base, 'host', s.tree));
  const mem = await memfsTree(base, 'memfs-src', s.tree);
  const out: Side[] = [
    { label: 'HostCore', fsx: createFs(host) as unknown as FsLike, root: '/', close: () => host.closeAll() },
    { label: 'MemfsCore', fsx: createFs(mem) as unknown as FsLike, root: '/', close: () => {} },
  ];
  // The router: a union root with a volume, a bind and a tmpfs; the case runs below one of them.
  const view = await openLayers([], { umask: 0o022 });
  const cores: Array<{ target: string; core: Core; readOnly: boolean; kind: MountKind }> = [];
  for (const [target, kind] of MOUNTS) {
    view.fs.mkdirSync(target);
    const core = kind === 'tmpfs' ? await memfsTree(base, `${kind}-src`, s.tree) : new HostCore(await hostTree(base, kind, s.tree));
    cores.push({ target, core, readOnly: false, kind });
  }
  const table = new MountTable({ target: '/', core: view.core, readOnly: false, kind: 'layer' }, cores);
  const [target, kind] = MOUNTS[i % MOUNTS.length];
  out.push({
    label: `router + ${kind} at ${target}`,
    fsx: createFs(new MountCore(table)) as unknown as FsLike,
    root: target,
    close: () => {
      for (const c of cores) if (c.core instanceof HostCore) c.core.closeAll();
      view.close();
    },
  });
  return out;
}

function report(s: Sequence, label: string, want: Run, got: Run): string | undefined {
  const first = s.ops.findIndex((_, k) => !sameResult(want.results[k], got.results[k]));
  const tree = diffLines(want.tree, got.tree, 'host fs', label);
  if (first < 0 && !tree) return undefined;
  const lines = s.ops.map((op, k) => {
    const w = showResult(want.results[k]);
    const g = showResult(got.results[k]);
    return `${String(k).padStart(2)}: [${s.flavours[k]}] ${describeOp(op)}\n      host fs: ${w}${w === g ? '' : `   ${label}: ${g}   <-- DIFFERS`}`;
  });
  return `${label} differs from the host filesystem${first >= 0 ? ` first at op ${first}` : ' in the final tree'}:\n${lines.join('\n')}${tree ? `\nfinal tree:\n${tree}` : ''}`;
}

/** The difference of `s` on the side called `label` (case `i` picks the router's mount), or undefined. */
async function differs(s: Sequence, i: number, label: string): Promise<string | undefined> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'layerfs-cores-random-'));
  try {
    const oracleRoot = await hostTree(base, 'oracle', s.tree);
    const want = await run(kernelFs, oracleRoot, s, { guard: hostGuard(oracleRoot) });
    let text: string | undefined;
    for (const side of await sides(base, s, i)) {
      try {
        if (side.label === label) text = report(s, side.label, want, await run(side.fsx, side.root, s, { mirror: want.results }));
      } finally {
        side.close();
      }
    }
    return text;
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

test.serial(`random op sequences on HostCore, MemfsCore and the mount router agree with the host filesystem (seed ${SEED})`, async (t) => {
  if (!requireOrSkip(t, process.getuid?.() !== 0 && 'needs root (chown to other ids) to compare the cores with the host filesystem')) return;
  t.timeout(10 * 60_000);
  const indices = ONLY !== undefined ? [Number(ONLY)] : Array.from({ length: CASES }, (_, i) => i);
  const prev = process.umask(0o022);
  const found: string[] = [];
  let ops = 0;
  let skippedOps = 0;
  try {
    for (const i of indices) {
      const s = genSequence(i);
      ops += s.ops.length;
      const base = fs.mkdtempSync(path.join(os.tmpdir(), 'layerfs-cores-random-'));
      try {
        const oracleRoot = await hostTree(base, 'oracle', s.tree);
        const want = await run(kernelFs, oracleRoot, s, { guard: hostGuard(oracleRoot) });
        skippedOps += want.results.filter((r) => 'skip' in r).length;
        for (const side of await sides(base, s, i)) {
          let text: string | undefined;
          try {
            text = report(s, side.label, want, await run(side.fsx, side.root, s, { mirror: want.results }));
          } finally {
            side.close();
          }
          if (text) {
            const label = side.label;
            const { small } = await shrinkOps(s, async (c) => (await differs(c, i, label)) !== undefined, 60);
            const shrunk = small.ops.length < s.ops.length ? `\nshrunk to ${small.ops.length} of ${s.ops.length} ops:\n${await differs(small, i, label)}` : '';
            found.push(`DIFFERENCE seed=${SEED} case=${i}\nreplay: LAYERFS_CORES_SEED=${SEED} LAYERFS_CORES_CASE=${i} npx ava test/cores-random.test.ts\ntree: ${shortJson(s.tree)}\n${text}${shrunk}`);
            break;
          }
        }
      } finally {
        fs.rmSync(base, { recursive: true, force: true });
      }
      if (found.length >= KEEP_GOING) break;
    }
  } finally {
    process.umask(prev);
  }
  t.log(`${indices.length} cases, ${ops} ops (${skippedOps} skipped by the safety guards), seed ${SEED}`);
  for (const text of found) t.log(text);
  if (found.length) t.fail(`${found.length} case(s) where a core differs from the host filesystem; see the log above`);
  else t.pass();
});
