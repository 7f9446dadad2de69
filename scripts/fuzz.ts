/**
 * A property-based fuzzer for the archive reader (fast-check, seeded). It mutates the real fixture
 * archives (test/fixtures/*) and the layer tars inside them: bit flips, byte sets,
 * truncations, block duplications and removals, inserted headers (valid checksum, random fields).
 * Every mutant must either load (and then `view.manifest()` must not throw) or fail with an
 * ArchiveError or StateError; anything else (TypeError, RangeError, …) or a load slower than 5 s
 * is a finding.
 *
 *   npm run fuzz -- --seconds 300 --seed 42     # findings go to test/corpus/found/<sha>.tar + .json
 *   npm run fuzz -- --kernel --cases 2000       # kernel differential instead: scripts/fuzz-kernel.ts
 *
 * test/fuzz-archive.test.ts runs the same property for LAYERFS_FUZZ_SECONDS (4 s in npm test, 60 s
 * in npm run test:slow); test/hostile-corpus.test.ts replays test/corpus/found/ so a fixed finding
 * stays fixed.
 *
 * `npm run fuzz` runs the loads in a child process under a watchdog (scripts/fuzz-watchdog.ts): a
 * load that never returns (an infinite loop) is killed after --hang-seconds (default 30) and saved
 * as a finding like any other; a slow one that returns (over 5 s) is recorded by `check`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ArchiveError, StateError } from '../src/core/errors.js';
import { loadImage } from '../src/image/index.js';
import { openImage, openLayers } from '../src/index.js';
import { readAll } from '../src/source.js';
import { rawHeader } from './hostile-corpus.js';

export const FIXTURES = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const HANG_MS = 5000;

export interface Seed {
  label: string;
  kind: 'image' | 'layers';
  bytes: Buffer;
}

/** Outer archives of the small fixture images, and their layer tars (plain and gzipped). */
export async function loadSeeds(): Promise<Seed[]> {
  const seeds: Seed[] = [];
  const images = readdirSync(FIXTURES)
    .filter((d) => ['gnutar', 'links', 'names', 'umoci', 'volumes', 'whiteouts'].includes(d))
    .sort();
  const { readFileSync } = await import('node:fs');
  for (const image of images) {
    for (const f of ['docker-archive.tar', 'oci-archive.tar', 'oci-archive-gzip.tar', 'oci-archive-zstd.tar']) {
      seeds.push({ label: `${image}/${f}`, kind: 'image', bytes: readFileSync(join(FIXTURES, image, f)) });
    }
    const img = await loadImage(join(FIXTURES, image, 'oci-archive.tar'));
    try {
      img.layers.forEach((l, i) => {
        const tar = readAll(l.tar);
        seeds.push({ label: `${image} layer ${i + 1}`, kind: 'layers', bytes: tar });
        if (i === 0) seeds.push({ label: `${image} layer ${i + 1} (gzip)`, kind: 'layers', bytes: gzipSync(tar) });
      });
    } finally {
      img.close();
    }
  }
  return seeds;
}

export type Mutation =
  | { op: 'flip'; at: number; mask: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'dup'; from: number; to: number }
  | { op: 'drop'; block: number }
  | { op: 'header'; block: number; name: string; type: string; size: number; linkname: string };

/** Positions are fractions of the current length, so one mutation list fits any seed. */
const frac = fc.nat({ max: 0x7fffffff }).map((n) => n / 0x80000000);

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: frac, mask: fc.integer({ min: 1, max: 255 }) }) as fc.Arbitrary<Mutation> },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), at: frac, value: fc.constantFrom(0, 0x20, 0x30, 0x37, 0x80, 0xff, 0x2f, 0x2e) }) as fc.Arbitrary<Mutation> },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: frac }) as fc.Arbitrary<Mutation> },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dup' as const), from: frac, to: frac }) as fc.Arbitrary<Mutation> },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), block: frac }) as fc.Arbitrary<Mutation> },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('header' as const),
      block: frac,
      name: fc.constantFrom('a', '../x', '/etc/passwd', '.wh.a', '.wh..wh..opq', 'a/b/c', './', '', 'manifest.json', 'index.json', 'blobs/sha256/x'),
      type: fc.constantFrom('0', '1', '2', '3', '5', 'x', 'g', 'L', 'K', 'S', 'V', 'Z', '\0'),
      size: fc.oneof(fc.constantFrom(0, 1, 511, 512, 513, 2 ** 33 - 1), fc.nat({ max: 100_000 })),
      linkname: fc.constantFrom('', 'a', '../../etc/shadow', '/etc', 'a/b/c', '.'),
    }) as fc.Arbitrary<Mutation>,
  },
);

export function applyMutations(seed: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(seed);
  const pos = (f: number): number => Math.min(b.length - 1, Math.floor(f * b.length));
  for (const m of ms) {
    if (b.length === 0) break;
    switch (m.op) {
      case 'flip':
        b[pos(m.at)] ^= m.mask;
        break;
      case 'set':
        b[pos(m.at)] = m.value;
        break;
      case 'truncate':
        b = b.subarray(0, pos(m.at));
        break;
      case 'dup': {
        const from = pos(m.from) & ~511;
        const to = pos(m.to) & ~511;
        b = Buffer.concat([b.subarray(0, to), b.subarray(from, from + 512), b.subarray(to)]);
        break;
      }
      case 'drop': {
        const at = pos(m.block) & ~511;
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 512)]);
        break;
      }
      case 'header': {
        const at = pos(m.block) & ~511;
        const h = rawHeader({ name: m.name, typeflag: m.type, size: m.size, linkname: m.linkname });
        b = Buffer.concat([b.subarray(0, at), h, b.subarray(at)]);
        break;
      }
    }
  }
  return b;
}

export interface Outcome {
  result: 'loaded' | 'typed' | 'finding';
  detail: string;
  ms: number;
}

/** Loads one mutant (written to `dir`) and classifies what happened. */
export async function check(bytes: Buffer, kind: 'image' | 'layers', verify: boolean, dir: string): Promise<Outcome> {
  const file = join(dir, 'mutant.tar');
  writeFileSync(file, bytes);
  const started = Date.now();
  let out: Omit<Outcome, 'ms'>;
  try {
    const v = kind === 'image' ? await openImage(file, { verify }) : await openLayers([file]);
    try {
      v.manifest();
      out = { result: 'loaded', detail: '' };
    } catch (e) {
      out = { result: 'finding', detail: `manifest() threw after a successful load: ${(e as Error)?.stack ?? String(e)}` };
    } finally {
      v.close();
    }
  } catch (e) {
    out = e instanceof ArchiveError || e instanceof StateError ? { result: 'typed', detail: `${e.code}` } : { result: 'finding', detail: (e as Error)?.stack ?? String(e) };
  }
  const ms = Date.now() - started;
  if (out.result !== 'finding' && ms > HANG_MS) out = { result: 'finding', detail: `took ${ms} ms (over ${HANG_MS} ms: a hang)` };
  return { ...out, ms };
}

export const caseArb = (seeds: Seed[]) =>
  fc.record({
    seed: fc.nat({ max: seeds.length - 1 }),
    mutations: fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
    verify: fc.boolean(),
  });

export interface FuzzResult {
  runs: number;
  outcomes: Record<string, number>;
  findings: Array<{ label: string; detail: string; file?: string }>;
}

export interface FuzzOptions {
  seconds: number;
  seed: number;
  foundDir?: string;
  log?: (s: string) => void;
  /** Where mutants are written (a temp dir, removed at the end, unless given). */
  dir?: string;
  /** Called before each mutant is loaded, with what would reproduce it (the watchdog's record). */
  onStart?: (c: { label: string; kind: Seed['kind']; verify: boolean; mutations: Mutation[]; file: string }) => void;
  /** Classifies one mutant: `check` unless given (the watchdog's test gives one that hangs). */
  check?: typeof check;
}

/** Runs for `seconds`; each finding is written to `foundDir` (if given) with a note. */
export async function fuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const seeds = await loadSeeds();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'layerfs-fuzz-'));
  const classify = opts.check ?? check;
  const res: FuzzResult = { runs: 0, outcomes: {}, findings: [] };
  const deadline = Date.now() + opts.seconds * 1000;
  try {
    await fc.assert(
      fc.asyncProperty(caseArb(seeds), async (c) => {
        if (Date.now() > deadline) return true;
        const s = seeds[c.seed];
        const bytes = applyMutations(s.bytes, c.mutations);
        if (opts.onStart) {
          // The mutant is on disk before the watchdog is told, so a hang leaves it to be saved.
          const file = join(dir, 'mutant.tar');
          writeFileSync(file, bytes);
          opts.onStart({ label: s.label, kind: s.kind, verify: c.verify, mutations: c.mutations, file });
        }
        const o = await classify(bytes, s.kind, c.verify, dir);
        res.runs++;
        res.outcomes[o.detail && o.result === 'typed' ? o.detail : o.result] = (res.outcomes[o.detail && o.result === 'typed' ? o.detail : o.result] ?? 0) + 1;
        if (o.result === 'finding') {
          const sha = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
          const f: FuzzResult['findings'][number] = { label: `${s.label} ${JSON.stringify(c.mutations)} verify=${c.verify}`, detail: o.detail };
          if (opts.foundDir) {
            mkdirSync(opts.foundDir, { recursive: true });
            f.file = join(opts.foundDir, `${sha}.tar`);
            writeFileSync(f.file, bytes);
            writeFileSync(
              join(opts.foundDir, `${sha}.json`),
              JSON.stringify(
                {
                  kind: s.kind,
                  verify: c.verify,
                  seed: s.label,
                  mutations: c.mutations,
                  fuzzSeed: opts.seed,
                  detail: o.detail,
                  note: 'found by scripts/fuzz.ts; replayed by test/hostile-corpus.test.ts',
                },
                null,
                2,
              ),
            );
          }
          res.findings.push(f);
          opts.log?.(`FINDING ${f.label}\n${o.detail}\n`);
        }
        return true; // keep going: every finding is recorded, none stops the run
      }),
      { seed: opts.seed, numRuns: 10_000_000, interruptAfterTimeLimit: opts.seconds * 1000, markInterruptAsFailure: false, endOnFailure: true },
    );
  } finally {
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  }
  return res;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv.includes('--kernel')) {
  // npm run fuzz -- --kernel [--cases N] [--seed S]: the kernel differential fuzzer (scripts/fuzz-kernel.ts)
  import('./fuzz-kernel.js')
    .then((m) => m.main(process.argv))
    .then(
      (code) => process.exit(code),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string, def: number): number => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : def;
  };
  const seconds = arg('seconds', 60);
  const seed = arg('seed', Date.now() % 2 ** 31);
  const hangMs = arg('hang-seconds', 30) * 1000;
  const foundDir = fileURLToPath(new URL('../test/corpus/found/', import.meta.url));
  console.log(`fuzzing the archive reader for ${seconds} s, seed ${seed} (a load stuck for ${hangMs / 1000} s is a finding)`);
  import('./fuzz-watchdog.js')
    .then((w) => w.guardedFuzz({ seconds, seed, foundDir, hangMs, log: (s: string) => console.log(s) }))
    .then((r) => {
      console.log(`${r.runs} mutants: ${JSON.stringify(r.outcomes)}`);
      console.log(r.findings.length ? `${r.findings.length} finding(s) written to ${foundDir}` : 'no findings');
      process.exitCode = r.findings.length ? 1 : 0;
    });
}
