/**
 * Issue 13: the README's benchmark section is generated from the committed results, never copied
 * by hand. The block between its markers must be what bench/readme.ts renders from
 * bench/results/*.json; every target in it must be the one of the results file the rule picks (this
 * file applies the rule to the JSON on its own), with its verdict and that file named; and the
 * section's prose outside the block quotes no measurement.
 */
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchReadmeError, pick, readResults, renderBlock, replaceBlock, type ResultsFile, type RunResults } from '../bench/readme.js';
import { BenchArgumentError, parseOnly } from '../bench/figures.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const RESULTS = join(ROOT, 'bench', 'results');
const BLOCK = /<!-- bench:begin -->[\s\S]*?<!-- bench:end -->/;
const section = /\n## Benchmark\n([\s\S]*?)\n## /.exec(README)?.[1] ?? '';

test("the README's benchmark block is what bench/results/*.json render (else: npm run bench:readme)", (t) => {
  const inReadme = BLOCK.exec(section)?.[0];
  t.truthy(inReadme, 'the Benchmark section holds the block between <!-- bench:begin --> and <!-- bench:end -->');
  t.is(inReadme, renderBlock(readResults()), 'README.md is stale: run `npm run bench:readme` and commit it');
});

/** The JSON keys of the figures and their targets' `figure`, as bench/run.ts writes them. */
const FIGURE_KEYS: Array<[string, string]> = [
  ['lookup', 'lookup'],
  ['copyUp', 'copy-up'],
  ['load', 'load'],
  ['cli', 'cli'],
  ['cache', 'cache'],
  ['page', 'page'],
  ['registry', 'registry'],
  ['concurrent', 'concurrent'],
];

test("every target in the block is its figure's newest --full results (else quick), with the verdict and the file named", (t) => {
  // The rule, applied here to the JSON itself: per figure, among the non-smoke files that measured
  // it, the full runs first, then the newest.
  const files = readdirSync(RESULTS)
    .filter((n) => n.endsWith('.json'))
    .map((n) => ({
      n,
      r: JSON.parse(readFileSync(join(RESULTS, n), 'utf8')) as Record<string, unknown> & { mode: string; date: string; targets: Array<{ figure: string; target: string; pass: boolean }> },
    }));
  const block = BLOCK.exec(section)![0];
  const rows = block
    .split('\n')
    .filter((l) => l.startsWith('| '))
    .map((l) => l.split(' | ').map((c) => c.replace(/^\| | \|$/g, '')));
  let checked = 0;
  for (const [key, figure] of FIGURE_KEYS) {
    const having = files.filter(({ r }) => r.mode !== 'smoke' && r[key] !== undefined && !(key === 'page' && (r.page as { skipped?: string }).skipped));
    having.sort((a, b) => (a.r.mode === 'full' ? 1 : 0) - (b.r.mode === 'full' ? 1 : 0) || Date.parse(a.r.date) - Date.parse(b.r.date));
    const best = having[having.length - 1];
    if (!best) {
      t.true(
        rows.some((r) => r[0].split(', ').includes(figure) && r[1] === 'none in bench/results'),
        `${figure}: the block says no results hold it`,
      );
      continue;
    }
    const md = `bench/results/${best.n.replace(/\.json$/, '.md')}`;
    t.true(
      rows.some((r) => r[0].split(', ').includes(figure) && r[1].includes(`(${md})`)),
      `${figure}: the block says it comes from ${md}`,
    );
    for (const target of best.r.targets.filter((x) => x.figure === figure)) {
      const row = rows.find((r) => r[1] === figure && r[2] === target.target);
      t.truthy(row, `${figure}: "${target.target}" in the block`);
      t.is(row?.[0], target.pass ? 'pass' : '**MISS**', `${target.target}: its verdict`);
      t.true(row?.[6].includes(`(${md})`), `${target.target}: from ${md}`);
      checked++;
    }
  }
  t.true(checked > 0, 'the committed results hold targets');
});

test('the partial results of the page figure are partial-page.* and hold that figure alone', (t) => {
  const r = JSON.parse(readFileSync(join(RESULTS, 'partial-page.json'), 'utf8')) as Record<string, unknown> & { targets: Array<{ figure: string }> };
  t.deepEqual(
    FIGURE_KEYS.map(([k]) => k).filter((k) => r[k] !== undefined),
    ['page'],
  );
  t.deepEqual([...new Set(r.targets.map((x) => x.figure))], ['page']);
  t.false(
    readdirSync(RESULTS).some((n) => n.startsWith('partial-quick') || n.startsWith('partial-full')),
    'no partial results named by mode',
  );
});

test('outside the block, the benchmark section quotes no measurement (times, rates, ratios, percentages)', (t) => {
  const prose = section.replace(BLOCK, '');
  t.true(prose.length > 1000, 'the section has its prose');
  const quoted = [...prose.matchAll(/[~≈]?\d[\d,.]*\s?(?:ns|µs|us|ms|s|sec|min|MiB\/s|MB\/s|%|×|x)(?![\w/])/g)].map((m) => m[0]);
  t.deepEqual(quoted, [], 'figures belong in the generated block');
});

const run = (file: string, mode: RunResults['mode'], date: string, parts: Partial<RunResults>): ResultsFile => ({ file, results: { mode, repeats: 1, date, targets: [], ...parts } });
const LOOKUP = [{ peer: 'layerfs', depth: 1 }];
const PAGE = { layerList: { median: 1, min: 1, max: 1 } };

test('pick: a --full run beats a newer quick one, a newer run of the same mode an older, and a skipped page or a smoke run nothing', (t) => {
  const oldFull = run('old-full.json', 'full', '2026-01-01T00:00:00Z', { lookup: LOOKUP, page: PAGE });
  const newQuick = run('new-quick.json', 'quick', '2026-03-01T00:00:00Z', { lookup: LOOKUP, page: PAGE, cli: {} as RunResults['cli'] });
  const newerFull = run('newer-full.json', 'full', '2026-02-01T00:00:00Z', { lookup: LOOKUP, page: { skipped: 'no browser' } });
  const smoke = run('smoke.json', 'smoke', '2026-04-01T00:00:00Z', { lookup: LOOKUP, page: PAGE, cache: {} as RunResults['cache'] });
  const got = pick([oldFull, newQuick, newerFull, smoke]);
  t.is(got.get('lookup')?.file, 'newer-full.json');
  t.is(got.get('page')?.file, 'old-full.json', 'the newer full run skipped the page: the older one measured it');
  t.is(got.get('cli')?.file, 'new-quick.json', 'only a quick run has the cli figure');
  t.false(got.has('cache'), 'a smoke run is never a figure');
  t.false(got.has('registry'));
});

test('replaceBlock replaces the block alone, and names the file when the markers are missing, doubled or reversed', (t) => {
  t.is(replaceBlock('a\n<!-- bench:begin -->\nold\n<!-- bench:end -->\nb\n', '<!-- bench:begin -->new<!-- bench:end -->', 'X.md'), 'a\n<!-- bench:begin -->new<!-- bench:end -->\nb\n');
  for (const bad of ['no markers', '<!-- bench:begin --> only', '<!-- bench:end --> <!-- bench:begin -->', '<!-- bench:begin --><!-- bench:end --><!-- bench:begin --><!-- bench:end -->']) {
    const e = t.throws(() => replaceBlock(bad, '', 'X.md'), { instanceOf: BenchReadmeError });
    t.is(e?.file, 'X.md');
    t.true(e?.message.startsWith('X.md: '), e?.message);
  }
});

test("readResults: a file that is not a run's results is refused naming it; smoke runs are left out", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-bench-readme-'));
  try {
    writeFileSync(join(dir, 'latest-smoke.json'), JSON.stringify({ mode: 'smoke', repeats: 1, date: '2026-01-01T00:00:00Z', targets: [] }));
    writeFileSync(join(dir, 'latest.json'), JSON.stringify({ mode: 'quick', repeats: 1, date: '2026-01-01T00:00:00Z', targets: [] }));
    t.deepEqual(
      readResults(dir, dir).map((f) => f.file),
      ['latest.json'],
    );
    writeFileSync(join(dir, 'broken.json'), '{"mode": ');
    const e1 = t.throws(() => readResults(dir, dir), { instanceOf: BenchReadmeError });
    t.is(e1?.file, 'broken.json');
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({ mode: 'quick', targets: [] }));
    const e2 = t.throws(() => readResults(dir, dir), { instanceOf: BenchReadmeError });
    t.regex(e2!.message, /^broken\.json: not the results of a benchmark run/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--only takes figure names (in the benchmark's order) and refuses another, naming it", (t) => {
  t.deepEqual(parseOnly('page,lookup'), ['lookup', 'page']);
  const e = t.throws(() => parseOnly('lookup,quick'), { instanceOf: BenchArgumentError });
  t.is(e?.argument, '--only lookup,quick');
  t.regex(e!.message, /"quick" is not a figure \(figures: lookup, copy, load, cli, cache, page, registry, concurrent, scale\)/);
  t.throws(() => parseOnly(''), { instanceOf: BenchArgumentError, message: /an empty name/ });
});
