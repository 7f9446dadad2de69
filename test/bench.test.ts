/**
 * The benchmark's runner works end to end in npm test, on its two cheapest figures (cli, scale):
 * `--only` writes partial results per figure, targets are judged as their values say, an unknown
 * figure is refused. Every figure on tiny inputs (`--smoke`, a minute of CPU) is checked by
 * test/slow/bench-smoke.test.ts in `npm run test:slow`.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunResults } from '../bench/readme.js';
import { shouldPass } from './helpers/bench-targets.js';
import { nodeArgs } from './helpers/child.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

test("--only writes partial-<figure>.* per figure: a later run of one figure leaves another's results as they were; an unknown figure is refused", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-bench-partial-'));
  const bench = (...args: string[]) => spawnSync(process.execPath, [...nodeArgs(join(ROOT, 'bench/run.ts')), '--smoke', '--out', dir, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  try {
    const first = bench('--only', 'scale,cli');
    t.is(first.status, 0, first.stderr.slice(-2000));
    t.regex(first.stdout, /## Targets: \d+ pass, \d+ miss/);
    const read = (f: string) => JSON.parse(readFileSync(join(dir, `partial-${f}.json`), 'utf8')) as RunResults;
    const [scale, cli] = [read('scale'), read('cli')];
    t.truthy(scale.scale);
    t.is(scale.cli, undefined, 'partial-scale holds the scale figure alone');
    t.truthy(cli.cli);
    t.is(cli.scale, undefined, 'partial-cli holds the cli figure alone');
    t.deepEqual([...new Set(scale.targets.map((x) => x.figure))], ['scale']);
    t.deepEqual([...new Set(cli.targets.map((x) => x.figure))], ['cli']);
    t.deepEqual(scale.only, ['cli', 'scale'], 'the figures in their order, not as given');
    for (const x of [...scale.targets, ...cli.targets]) {
      t.is(x.pass, shouldPass(x), `${x.target}: pass agrees with ${x.value} ${x.op} ${x.limit}`);
    }
    t.true(readFileSync(join(dir, 'partial-cli.md'), 'utf8').includes('## Command line'));
    t.false(readFileSync(join(dir, 'partial-cli.md'), 'utf8').includes('## Scale'));
    const scaleBytes = readFileSync(join(dir, 'partial-scale.json'), 'utf8');
    const again = bench('--only=cli');
    t.is(again.status, 0, again.stderr.slice(-2000));
    t.not(read('cli').date, cli.date, 'the cli figure was run again');
    t.is(readFileSync(join(dir, 'partial-scale.json'), 'utf8'), scaleBytes, "the scale figure's partial results are as they were");
    t.false(
      readdirSync(dir).some((f) => /^partial-(smoke|quick|full)\./.test(f)),
      'no partial file named by the mode',
    );
    const before = readdirSync(dir).sort();
    const bad = bench('--only', 'cli,nope');
    t.is(bad.status, 2);
    t.is(bad.stderr, 'bench: --only cli,nope: "nope" is not a figure (figures: lookup, copy, load, cli, cache, page, registry, concurrent, scale)\n');
    t.deepEqual(readdirSync(dir).sort(), before, 'a refused run writes nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
