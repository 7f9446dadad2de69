/**
 * The archive-reader fuzzer (scripts/fuzz.ts), bounded for CI: LAYERFS_FUZZ_SECONDS (4 s in npm
 * test, 60 s in npm run test:slow) with a fixed seed over the fixture archives and their layer tars. Every mutant must load (and `manifest()` must work) or
 * fail with an ArchiveError/StateError. `npm run fuzz -- --seconds N --seed S` runs longer and
 * saves findings to test/corpus/found/, which test/hostile-corpus.test.ts replays.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyMutations, fuzz, loadSeeds } from '../scripts/fuzz.js';
import { guardedFuzz } from '../scripts/fuzz-watchdog.js';

test('mutations are deterministic and stay in bounds', (t) => {
  const seed = Buffer.alloc(2048, 7);
  const ms = [
    { op: 'flip' as const, at: 0.5, mask: 1 },
    { op: 'dup' as const, from: 0, to: 0.99 },
    { op: 'header' as const, block: 0.3, name: 'x', type: '0', size: 1, linkname: '' },
    { op: 'drop' as const, block: 0.1 },
    { op: 'truncate' as const, at: 0.9 },
  ];
  const a = applyMutations(seed, ms);
  t.deepEqual(a, applyMutations(seed, ms));
  t.is(seed[1024], 7, 'the seed is not modified');
  t.true(a.length > 0 && a.length < 3072);
});

const FUZZ_SECONDS = Number(process.env.LAYERFS_FUZZ_SECONDS ?? 4);

test(`fuzz the reader for ~${FUZZ_SECONDS} s (seeded): no finding`, async (t) => {
  const r = await fuzz({ seconds: FUZZ_SECONDS, seed: 0x5eed, log: (s) => t.log(s) });
  t.log(`${r.runs} mutants: ${JSON.stringify(r.outcomes)}`);
  // The budget is time, so how many mutants fit depends on the machine's load: only require some.
  t.true(r.runs > 0, `${r.runs} mutants ran`);
  t.true((r.outcomes.loaded ?? 0) > 0, 'some mutants still load');
  t.deepEqual(
    r.findings.map((f) => `${f.label}\n${f.detail}`),
    [],
  );
});

test('the watchdog: a load that never returns is killed and saved as a finding that reproduces it', async (t) => {
  const found = mkdtempSync(join(tmpdir(), 'layerfs-fuzz-found-'));
  t.teardown(() => rmSync(found, { recursive: true, force: true }));
  const checkModule = fileURLToPath(new URL('./helpers/hang-check.ts', import.meta.url));
  const r = await guardedFuzz({ seconds: 60, seed: 7, foundDir: found, hangMs: 1500, checkModule });
  t.is(r.findings.length, 1);
  t.regex(r.findings[0].detail, /no result after 1500 ms: killed \(a hang\)/);
  const meta = JSON.parse(readFileSync(r.findings[0].file!.replace(/\.tar$/, '.json'), 'utf8'));
  // The saved mutant is the one the mutations make from the seed it names.
  const seeds = await loadSeeds();
  const seed = seeds.find((s) => s.label === meta.seed)!;
  t.truthy(seed, meta.seed);
  t.true(applyMutations(seed.bytes, meta.mutations).equals(readFileSync(r.findings[0].file!)), 'the saved bytes are the mutant');
});

test("the watchdog passes a run without hangs through: the child's counts, no finding", async (t) => {
  const r = await guardedFuzz({ seconds: 3, seed: 0x5eed, hangMs: 30_000 });
  t.true(r.runs > 10, `${r.runs} mutants ran`);
  t.deepEqual(r.findings, []);
});
