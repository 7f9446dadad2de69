/**
 * The archive-reader fuzzer (scripts/fuzz.ts), bounded for CI: ~10 s with a fixed seed over the
 * fixture archives and their layer tars. Every mutant must load (and `manifest()` must work) or
 * fail with an ArchiveError/StateError. `npm run fuzz -- --seconds N --seed S` runs longer and
 * saves findings to test/corpus/found/, which test/hostile-corpus.test.ts replays.
 */
import test from 'ava';
import { applyMutations, fuzz } from '../scripts/fuzz.js';

test('mutations are deterministic and stay in bounds', (t) => {
  const seed = Buffer.alloc(2048, 7);
  const ms = [
    { op: 'flip' as const, at: 0.5, mask: 1 }, { op: 'dup' as const, from: 0, to: 0.99 },
    { op: 'header' as const, block: 0.3, name: 'x', type: '0', size: 1, linkname: '' }, { op: 'drop' as const, block: 0.1 },
    { op: 'truncate' as const, at: 0.9 },
  ];
  const a = applyMutations(seed, ms);
  t.deepEqual(a, applyMutations(seed, ms));
  t.is(seed[1024], 7, 'the seed is not modified');
  t.true(a.length > 0 && a.length < 3072);
});

test('fuzz the reader for ~10 s (seeded): no finding', async (t) => {
  const r = await fuzz({ seconds: 10, seed: 0x5eed, log: (s) => t.log(s) });
  t.log(`${r.runs} mutants: ${JSON.stringify(r.outcomes)}`);
  t.true(r.runs > 100, `${r.runs} mutants ran`);
  t.true((r.outcomes.loaded ?? 0) > 0, 'some mutants still load');
  t.deepEqual(r.findings.map((f) => `${f.label}\n${f.detail}`), []);
});
