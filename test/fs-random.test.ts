/**
 * Random operation sequences (the shared op language and generator, test/ops/) over a small
 * namespace, run on Node's fs in a temp directory and on createFs(MemfsCore): after every step the
 * outcomes (error code with syscall, path and message; normalised values) and the whole trees must
 * be equal. Each step runs in a flavour (sync, callback, promise with FileHandles) drawn per step,
 * both sides alike.
 *
 * The namespace is names a, b, c nested up to three deep, starting empty; the generator adds odd
 * spellings ('a/', 'a/.', 'a/../a', '/'), held descriptors (also after unlink/rename), O_PATH opens,
 * symlink targets with trailing slashes and non-ASCII bytes, and calls on the root. Safety: an op
 * whose walk would leave the real side's temp directory (a symlink climbing above it), or that
 * would remove the directory itself, is skipped on both sides (ops.ts `hostGuard`).
 *
 *   FS_RANDOM_SEED=n   run seed          FS_RANDOM_RUNS=n   sequences (default 200)
 *   FS_RANDOM_RUN=i    replay sequence i alone
 */
import test from 'ava';
import { cut, norm, snapshot } from './fs/compare.js';
import { memfsSide, realSide, type Side } from './fs/sides.js';
import { caseSeed, genOps, Rng, type Namespace } from './ops/gen.js';
import { describeOp, FLAVOURS, hostGuard, OpRunner, sameResult, showResult, type Flavour, type FsLike, type Op, type Result } from './ops/ops.js';
import { shrinkOps } from './ops/shrink.js';

const NAMES = ['a', 'b', 'c'];
const names: string[] = [];
for (const x of NAMES) {
  names.push(`/${x}`);
  for (const y of NAMES) {
    names.push(`/${x}/${y}`);
    for (const z of NAMES) names.push(`/${x}/${y}/${z}`);
  }
}
const NS: Namespace = { names };

const SEED = Number(process.env.FS_RANDOM_SEED ?? 20240611);
const RUNS = Number(process.env.FS_RANDOM_RUNS ?? 200);
const ONLY = process.env.FS_RANDOM_RUN;

interface Sequence {
  ops: Op[];
  flavours: Flavour[];
}

function sequence(i: number): Sequence {
  const r = new Rng(caseSeed(SEED, i));
  const ops = genOps(r, NS, { minOps: 1, maxOps: 12 });
  return { ops, flavours: ops.map(() => r.pick(FLAVOURS)) };
}

/** The real side hands '/' over as '<root>/.' (ops.ts): its errors then name '/.', memfs's '/'. */
const detail =
  (side: Side) =>
  (e: unknown): unknown =>
    JSON.parse(
      JSON.stringify(norm(e, side.root))
        .replace(/'\/\.'/g, "'/'")
        .replace(/"\/\."/g, '"/"'),
    );

function runner(side: Side, opts: { mirror?: Result[] } = {}): OpRunner {
  const root = side.root === '' ? '/' : side.root;
  return new OpRunner(side.fs as unknown as FsLike, root, { ...opts, errorDetail: detail(side), ...(side.name === 'real' ? { guard: hostGuard(root) } : {}) });
}

const tree = (side: Side): string => {
  const t = JSON.stringify(snapshot(side));
  return side.root ? t.split(side.root).join('') : t;
};

/** Runs a sequence on both sides; the first difference, described, or undefined. */
async function mismatch(s: Sequence): Promise<string | undefined> {
  const real = realSide();
  const layer = memfsSide();
  const want: Result[] = [];
  const a = runner(real);
  const b = runner(layer, { mirror: want });
  const shown: string[] = [];
  try {
    for (const [i, op] of s.ops.entries()) {
      const w = await a.run(op, s.flavours[i], i);
      want.push(w);
      const g = await b.run(op, s.flavours[i], i);
      shown.push(`${String(i).padStart(2)}: [${s.flavours[i]}] ${describeOp(op)}\n      node fs: ${showResult(w)}${'detail' in w ? ` ${cut(JSON.stringify(w.detail), real.root)}` : ''}`);
      const tw = tree(real);
      const tg = tree(layer);
      if (!sameResult(w, g) || tw !== tg) {
        shown.push(`      layer:   ${showResult(g)}${'detail' in g ? ` ${JSON.stringify(g.detail)}` : ''}   <-- DIFFERS`);
        if (tw !== tg) shown.push(`  tree after the step:\n    node fs: ${tw}\n    layer:   ${tg}`);
        return `step ${i} differs:\n${shown.join('\n')}`;
      }
    }
    return undefined;
  } finally {
    await a.closeAll();
    await b.closeAll();
    real.dispose();
    layer.dispose();
  }
}

test('random operation sequences agree with Node fs after every step', async (t) => {
  const indices = ONLY !== undefined ? [Number(ONLY)] : Array.from({ length: RUNS }, (_, i) => i);
  let ops = 0;
  for (const i of indices) {
    const s = sequence(i);
    ops += s.ops.length;
    if (!(await mismatch(s))) continue;
    const { small } = await shrinkOps(s, async (c) => (await mismatch(c)) !== undefined);
    t.fail(
      `seed ${SEED} sequence ${i} (${s.ops.length} ops, shrunk to ${small.ops.length})\nreplay: FS_RANDOM_SEED=${SEED} FS_RANDOM_RUN=${i} npx ava test/fs-random.test.ts\nops: ${JSON.stringify(small)}\n${await mismatch(small)}`,
    );
    return;
  }
  t.log(`${indices.length} sequences, ${ops} ops, seed ${SEED}`);
  t.pass();
});
