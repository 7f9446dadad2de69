/**
 * The archive fuzzer (scripts/fuzz.ts) under a watchdog: the loads run in a child process, which
 * writes what it is about to load (the mutant and how to make it again) before each one. A load
 * that never returns blocks the child's event loop, so the parent watches that record from outside:
 * one older than `hangMs` means a hang, and the parent kills the child and saves the mutant as a
 * finding (test/corpus/found/<sha>.tar + .json, replayed by test/hostile-corpus.test.ts).
 *
 * The child is this file run with `--child OPTIONS_JSON`; a test may name a module whose `check`
 * replaces the real one (to prove a hang is caught without a real hang in the reader).
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fuzz, type FuzzResult, type Mutation } from './fuzz.js';

export interface GuardedOptions {
  seconds: number;
  seed: number;
  foundDir?: string;
  /** A load taking longer than this is killed and saved as a hang. */
  hangMs: number;
  log?: (s: string) => void;
  /** A module exporting `check` to use instead of the real one (tests). */
  checkModule?: string;
}

interface CaseRecord {
  label: string;
  kind: string;
  verify: boolean;
  mutations: Mutation[];
  file: string;
  started: number;
}

const POLL_MS = 200;

/** Runs `fuzz` in a child process and returns its result, plus a finding for a load that hung. */
export async function guardedFuzz(opts: GuardedOptions): Promise<FuzzResult> {
  const work = mkdtempSync(join(tmpdir(), 'layerfs-fuzz-guard-'));
  const caseFile = join(work, 'case.json');
  const resultFile = join(work, 'result.json');
  try {
    const child = fork(fileURLToPath(import.meta.url), ['--child', JSON.stringify({ ...opts, log: undefined, work })], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let hung: CaseRecord | undefined;
    const timer = setInterval(() => {
      let c: CaseRecord | undefined;
      try {
        c = JSON.parse(readFileSync(caseFile, 'utf8')) as CaseRecord;
      } catch {
        return;
      } // none yet, or being replaced
      if (Date.now() - c.started > opts.hangMs && !hung) {
        hung = c;
        child.kill('SIGKILL');
      }
    }, POLL_MS);
    const code = await exited;
    clearInterval(timer);
    if (hung) return hangFinding(hung, opts);
    if (code !== 0) throw new Error(`the fuzz child exited with ${code}`);
    return JSON.parse(readFileSync(resultFile, 'utf8')) as FuzzResult;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function hangFinding(c: CaseRecord, opts: GuardedOptions): FuzzResult {
  const label = `${c.label} ${JSON.stringify(c.mutations)} verify=${c.verify}`;
  const detail = `no result after ${opts.hangMs} ms: killed (a hang)`;
  const finding: FuzzResult['findings'][number] = { label, detail };
  if (opts.foundDir) {
    const bytes = readFileSync(c.file);
    const sha = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    mkdirSync(opts.foundDir, { recursive: true });
    finding.file = join(opts.foundDir, `${sha}.tar`);
    copyFileSync(c.file, finding.file);
    writeFileSync(
      join(opts.foundDir, `${sha}.json`),
      JSON.stringify(
        {
          kind: c.kind,
          verify: c.verify,
          seed: c.label,
          mutations: c.mutations,
          fuzzSeed: opts.seed,
          detail,
          note: 'found by scripts/fuzz.ts (watchdog); replayed by test/hostile-corpus.test.ts',
        },
        null,
        2,
      ),
    );
  }
  opts.log?.(`FINDING ${label}\n${detail}\n`);
  return { runs: 0, outcomes: { hang: 1 }, findings: [finding] };
}

async function child(json: string): Promise<void> {
  const o = JSON.parse(json) as GuardedOptions & { work: string };
  const check = o.checkModule ? ((await import(pathToFileURL(o.checkModule).href)) as { check: Parameters<typeof fuzz>[0]['check'] }).check : undefined;
  const caseFile = join(o.work, 'case.json');
  const res = await fuzz({
    seconds: o.seconds,
    seed: o.seed,
    foundDir: o.foundDir,
    dir: o.work,
    check,
    log: (s) => console.log(s),
    // Written (and renamed into place, so the parent never reads half of it) before each load.
    onStart: (c) => {
      writeFileSync(`${caseFile}.new`, JSON.stringify({ ...c, started: Date.now() }));
      renameSync(`${caseFile}.new`, caseFile);
    },
  });
  writeFileSync(join(o.work, 'result.json'), JSON.stringify(res));
}

// The child: this file run with --child. Compared without the extension: tsx may load this source
// (.ts) for its compiled twin (.js) beside it, as in the tree npm test runs (scripts/test-tree.mjs).
const stem = (u: string) => u.replace(/\.[cm]?[jt]s$/, '');
if (process.argv[2] === '--child' && process.argv[1] && stem(import.meta.url) === stem(pathToFileURL(process.argv[1]).href)) {
  child(process.argv[3]).then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
