/**
 * The crash test: "a process killed at any moment leaves the old state or the new one, never a torn
 * one, and no volume data is lost". A child (test/helpers/state-crash-child.ts) rewrites a
 * container's record and layer.tar generation after generation, adds fsynced files to a volume,
 * and makes and removes scratch volumes, printing a line before and after each step; the parent
 * SIGKILLs it at a point chosen from that progress (never from elapsed time, so a loaded machine
 * changes nothing): after its n-th line, either while it stands still there (`pause`) or as soon as
 * the parent has read the line while it goes on into the next step (`race`). Then the parent opens
 * the state (which recovers what the kill left) and checks:
 * - the container is at the last generation the child reported committed, or the next one (old
 *   or new), and its record and layer.tar are a whole pair of one generation;
 * - every volume file the child reported fsynced, in this run or any earlier one, is there, whole;
 * - a scratch volume reported filled is there whole, or (once its removal began) gone; never half;
 * - no scratch entry (.tmp-, .new-, .trash-, .blob-) is left, the lock is free, and volume content
 *   that looks like scratch is untouched.
 * Runs: LAYERFS_CRASH_RUNS (default 15 in npm test, 100 in npm run test:slow) over 4 lanes, each a state home that every run continues
 * from. Kill points (line n, pause or race) come from LAYERFS_CRASH_SEED; the seed is logged.
 */
import test from 'ava';
import { mulberry32 } from './helpers/random.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newId } from '../src/engine/records.js';
import { State } from '../src/engine/state.js';
import { checkVolumeFile, frameName, layerBlob, layerGen, sha256hex } from './helpers/state-crash-child.js';
import { nodeArgs } from './helpers/child.js';
import { readAll } from '../src/source.js';

const CHILD = fileURLToPath(new URL('./helpers/state-crash-child.ts', import.meta.url));
const RUNS = Number(process.env.LAYERFS_CRASH_RUNS ?? 15);
const SEED = Number(process.env.LAYERFS_CRASH_SEED ?? 0x5eed0f);
const LANES = 4;
/**
 * Kill points: after line 1 ("ready", before the open) up to line MAX_LINE. One loop of the child
 * prints 10 lines (committing, committed, 3 × appending and appended, syncing, synced), every third
 * loop 4 more (a scratch volume), so MAX_LINE = 36 reaches the fourth generation and a scratch
 * volume's removal.
 */
const MAX_LINE = 36;

interface KillPoint {
  line: number;
  mode: 'pause' | 'race';
}
const NOW = '2025-01-02T03:04:05.000Z';
/** Volume content named like the store's scratch, of a pid that is never alive: open must keep it. */
const DECOYS = ['.tmp-99999999-0123abcd-mine', '.trash-99999999-0123abcd-mine', '.new-99999999-0123abcd-mine'];

interface Lane {
  home: string;
  id: string;
  /** The generation the state held after the last run. */
  gen: number;
  /** Every volume file a child reported fsynced. */
  synced: string[];
  /** The journal frames of generation `gen` the state held after the last run. */
  frames: number;
}

async function newLane(root: string, n: number): Promise<Lane> {
  const home = join(root, `lane${n}`);
  const state = await State.open(home);
  const img = newId();
  await state.putImage({ id: img, tags: [], source: 'crash-test', format: 'oci-archive', configDigest: `sha256:${img}`, created: NOW }, Buffer.from('archive'));
  const id = newId();
  const blob = layerBlob(0);
  await state.putContainer(
    {
      id,
      name: `crash${n}`,
      image: img,
      state: 'running',
      created: NOW,
      labels: { gen: '0', blob: sha256hex(blob) },
      mounts: [{ type: 'volume', source: 'data', target: '/data', readOnly: false }],
    },
    { 'layer.tar': blob },
  );
  await state.putVolume({ name: 'data', anonymous: false, created: NOW, labels: {} });
  for (const d of DECOYS) writeFileSync(join(state.volumeData('data'), d), 'user data');
  mkdirSync(join(state.volumeData('data'), 'sub', '.tmp-99999999-0123abcd-deep'), { recursive: true });
  return { home, id, gen: 0, synced: [], frames: 0 };
}

/** Runs the child, SIGKILLs it once it has printed line `at.line`, and returns every line it printed. */
async function killedRun(lane: Lane, tag: string, at: KillPoint): Promise<string[]> {
  const child = spawn(process.execPath, [...nodeArgs(CHILD), lane.home, lane.id, tag, String(at.line), at.mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const closed = once(child, 'close');
  const reached = new Promise<void>((res) => {
    const check = () => {
      if (out.split('\n').length > at.line) {
        child.stdout.off('data', check);
        res();
      }
    };
    child.stdout.on('data', check);
    child.once('exit', () => res());
  });
  await reached;
  child.kill('SIGKILL');
  // 'close': exited (and reaped) and every byte it wrote to the pipe has been read.
  const [, signal] = (await closed) as [number | null, NodeJS.Signals | null];
  if (signal !== 'SIGKILL') throw new Error(`the child ended by itself (${child.exitCode}) before the kill:\n${err}`);
  return out.split('\n').filter((l) => l !== '');
}

/** The names of scratch entries left in the store (not looking inside a volume's _data). */
function scratchLeft(home: string): string[] {
  const left: string[] = [];
  for (const kind of ['', 'images', 'containers', 'volumes']) {
    for (const name of readdirSync(join(home, kind))) {
      const path = join(home, kind, name);
      if (name.startsWith('.')) left.push(path);
      else if (kind !== '') for (const inner of readdirSync(path)) if (inner.startsWith('.')) left.push(join(path, inner));
    }
  }
  return left;
}

/** Checks the state after a kill; returns what is wrong (empty when all is well). */
async function check(lane: Lane, lines: string[]): Promise<string[]> {
  const wrong: string[] = [];
  const committed = lines.filter((l) => l.startsWith('committed ')).map((l) => Number(l.slice(10)));
  const last = committed.length > 0 ? Math.max(...committed) : lane.gen;
  const state = await State.open(lane.home, { lockTimeoutMs: 5000 });

  // Old or new, and a whole pair of one generation.
  const rec = (await state.getContainer(lane.id))!;
  const gen = Number(rec.labels.gen);
  if (gen !== last && gen !== last + 1) wrong.push(`container at generation ${gen}; the child last committed ${last}`);
  const raw = readFileSync(join(lane.home, 'containers', lane.id, 'layer.tar'));
  try {
    const blobGen = layerGen(raw);
    if (blobGen !== gen) wrong.push(`record at generation ${gen}, layer.tar at ${blobGen}`);
  } catch (e) {
    wrong.push(`layer.tar torn: ${(e as Error).message}`);
  }
  if (rec.labels.blob !== sha256hex(raw) || rec.blobs['layer.tar']?.digest !== `sha256:${sha256hex(raw)}`) {
    wrong.push(`record of generation ${gen} does not name the digest of layer.tar`);
  }
  const read = await state.readBlob(lane.id, 'layer.tar').catch((e: Error) => e);
  if (!(read instanceof Buffer) || !read.equals(raw)) wrong.push(`readBlob: ${read instanceof Error ? read.message : 'other bytes'}`);

  // STATE-6: the journal holds frames 0…k-1 of this generation, whole, in order: every frame
  // reported appended, and at most the one being appended when the kill came.
  const saved = await state.openSaved(lane.id).catch((e: Error) => e);
  if (saved instanceof Error) wrong.push(`openSaved: ${saved.message}`);
  else {
    const names: string[] = [];
    try {
      for (const f of saved.frames) names.push(frameName(readAll(f.tar)));
    } catch (e) {
      wrong.push(`journal frame ${names.length} torn: ${(e as Error).message}`);
    } finally {
      saved.close();
    }
    const k = names.length;
    names.forEach((n, j) => {
      if (n !== `${gen}.${j}`) wrong.push(`journal frame ${j} is ${n}, not ${gen}.${j}`);
    });
    const acked = lines.filter((l) => l.startsWith(`appended ${gen}.`)).length;
    const begun = lines.filter((l) => l.startsWith(`appending ${gen}.`)).length;
    // A generation this run did not commit keeps the frames it had.
    const [least, most] = committed.includes(gen) || gen === last + 1 ? [acked, begun] : [lane.frames, lane.frames];
    if (k < least || k > most) wrong.push(`journal of generation ${gen} holds ${k} frames; the child reported ${acked} appended of ${begun} begun (before this run: ${lane.frames})`);
    lane.frames = k;
  }
  lane.gen = gen;

  // No volume data lost.
  lane.synced.push(...lines.filter((l) => l.startsWith('synced ')).map((l) => l.slice(7)));
  const data = state.volumeData('data');
  for (const name of lane.synced) {
    try {
      checkVolumeFile(name, readFileSync(join(data, name), 'utf8'));
    } catch (e) {
      wrong.push(`volume file ${name}, reported fsynced: ${(e as Error).message}`);
    }
  }
  for (const d of DECOYS) if (!existsSync(join(data, d))) wrong.push(`volume content ${d} was deleted`);
  if (!existsSync(join(data, 'sub', '.tmp-99999999-0123abcd-deep'))) wrong.push('volume content sub/.tmp-… was deleted');

  // A scratch volume is whole, or gone once its removal began; never half-deleted.
  const said = (what: string, v: string) => lines.includes(`${what} ${v}`);
  const made = new Set(lines.filter((l) => l.startsWith('created ')).map((l) => l.slice(8)));
  const listed = new Set((await state.listVolumes()).map((v) => v.name).filter((n) => n.startsWith('scratch-')));
  for (const v of new Set([...made, ...listed])) {
    const there = listed.has(v);
    if (!there && !said('removing', v)) wrong.push(`scratch volume ${v} vanished before its removal began`);
    if (there && said('removed', v)) wrong.push(`scratch volume ${v} is back after its removal`);
    if (there && !existsSync(state.volumeData(v))) wrong.push(`scratch volume ${v} has a record but no _data`);
    if (there && said('filled', v)) {
      for (let j = 0; j < 4; j++) {
        try {
          checkVolumeFile(`${v}/f${j}`, readFileSync(join(state.volumeData(v), `f${j}`), 'utf8'));
        } catch (e) {
          wrong.push(`scratch volume ${v} is half-deleted: ${(e as Error).message}`);
        }
      }
    }
    if (there) await state.removeVolume(v);
  }

  // Nothing left behind, and the lock is free.
  const left = scratchLeft(lane.home);
  if (left.length > 0) wrong.push(`scratch entries left: ${left.join(', ')}`);
  const holders = readdirSync(join(lane.home, 'lock'));
  if (holders.length > 0) wrong.push(`lock still held: ${holders.join(', ')}`);
  return wrong;
}

test(`crash: ${RUNS} SIGKILLs at points of the writer's progress leave the old state or the new one, and lose no fsynced volume data and no journal frame reported appended (STATE-6)`, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'layerfs-crash-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  t.log(`seed ${SEED} (LAYERFS_CRASH_SEED), ${RUNS} runs (LAYERFS_CRASH_RUNS)`);
  const random = mulberry32(SEED);
  const points = Array.from({ length: RUNS }, (): KillPoint => ({ line: 1 + Math.floor(random() * MAX_LINE), mode: random() < 0.5 ? 'pause' : 'race' }));
  const lanes = await Promise.all(Array.from({ length: LANES }, (_, n) => newLane(root, n)));
  const failures: string[] = [];
  const stats = { runs: 0, commits: 0, noCommit: 0, aheadOfReport: 0 };
  let next = 0;
  await Promise.all(
    lanes.map(async (lane, n) => {
      for (let run = next++; run < RUNS; run = next++) {
        const before = lane.gen;
        let lines: string[] = [];
        let wrong: string[];
        // An error (a state that does not even open) is a failure of this run; the lane stops, and
        // the others finish before the test ends and its directory is removed.
        try {
          lines = await killedRun(lane, `r${run}`, points[run]!);
          wrong = await check(lane, lines);
        } catch (e) {
          failures.push(`run ${run} (lane ${n}, kill after line ${points[run]!.line}, ${points[run]!.mode}, last line "${lines.at(-1)}"): ${(e as Error).stack}`);
          return;
        }
        const reported = lines.filter((l) => l.startsWith('committed ')).length;
        // The kill came after the chosen line, never before it: the progress decides, not the clock.
        if (lines.length < points[run]!.line) failures.push(`run ${run}: killed after ${lines.length} lines, before line ${points[run]!.line}`);
        if (points[run]!.mode === 'pause' && lines.length !== points[run]!.line) failures.push(`run ${run}: paused at line ${points[run]!.line} but printed ${lines.length}`);
        stats.runs++;
        stats.commits += reported;
        if (reported === 0) stats.noCommit++;
        if (lane.gen === before + reported + 1) stats.aheadOfReport++;
        for (const w of wrong) failures.push(`run ${run} (lane ${n}, kill after line ${points[run]!.line}, ${points[run]!.mode}, last line "${lines.at(-1)}"): ${w}`);
      }
    }),
  );
  t.log(`${stats.runs} runs, ${stats.commits} generations committed; killed before any commit: ${stats.noCommit}; ` + `killed after a commit point but before its report: ${stats.aheadOfReport}`);
  t.deepEqual(failures, []);
  t.is(stats.runs, RUNS);
  // The runs must have done work to prove anything: every run killed after a "committed" line
  // reached a commit, whatever the machine's load (the kill points say how many that is).
  const mustCommit = points.filter((p) => p.line >= 3).length;
  t.true(stats.runs - stats.noCommit >= mustCommit, `${stats.runs - stats.noCommit} of ${RUNS} runs reached a commit; ${mustCommit} were killed after one`);
  t.true(mustCommit >= RUNS / 2, 'most kill points lie after the first commit');
});
