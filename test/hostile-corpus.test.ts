/**
 * The hostile-archive corpus (scripts/hostile-corpus.ts), built in a temp dir and opened case by
 * case. Each case must give its typed ArchiveError naming the file, or its documented safe result;
 * never another exception, never a hang, never a write: the input files keep their bytes, nothing
 * appears beside them, and the temp dir (where the anonymous spill files go) stays empty.
 * Also every input the fuzzer ever found (test/corpus/found/*.tar) must now load or fail typed.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCorpus, type Case } from '../scripts/hostile-corpus.js';
import { ArchiveError, StateError } from '../src/core/errors.js';
import { openImage, openLayers, type View } from '../src/index.js';

const base = mkdtempSync(join(tmpdir(), 'layerfs-hostile-'));
const inputs = join(base, 'in');
const spill = join(base, 'tmp');
mkdirSync(inputs);
mkdirSync(spill);
// The spill files go to os.tmpdir(): a private one, so "nothing new in it" is not disturbed by
// other test files running at the same time.
process.env.TMPDIR = spill;
test.after.always(() => rmSync(base, { recursive: true, force: true }));

const cases = await buildCorpus();
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms (hang)`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

type Ctx = import('ava').ExecutionContext;

function checkView(t: Ctx, v: View, expect: Record<string, string>): void {
  for (const [path, want] of Object.entries(expect)) {
    let st: import('node:fs').Stats | undefined;
    try {
      st = v.fs.lstatSync(path);
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT' && (e as { code?: string }).code !== 'ENOTDIR') throw e;
    }
    if (want === 'absent') {
      t.is(st, undefined, `${path} must be absent`);
      continue;
    }
    t.truthy(st, `${path} must exist`);
    if (!st) continue;
    if (want === 'dir') t.true(st.isDirectory(), `${path} is a directory`);
    else if (want === 'char') t.true(st.isCharacterDevice(), `${path} is a character device`);
    else if (want.startsWith('file:')) {
      t.true(st.isFile(), `${path} is a file`);
      t.is(v.fs.readFileSync(path, 'utf8'), want.slice(5));
    } else if (want.startsWith('symlink:')) {
      t.true(st.isSymbolicLink(), `${path} is a symlink`);
      t.is(v.fs.readlinkSync(path, 'utf8'), want.slice(8));
    } else t.fail(`bad expectation ${want}`);
  }
}

async function run(t: Ctx, c: Case, dir: string): Promise<void> {
  mkdirSync(dir);
  const paths = c.files.map((f, i) => {
    const p = join(dir, `${i + 1}.tar`);
    writeFileSync(p, f);
    return p;
  });
  const before = paths.map((p) => sha(readFileSync(p)));
  const warnings: string[] = [];
  const opts = { onWarning: (m: string) => warnings.push(m), verify: c.verify };
  let view: View | undefined;
  let error: unknown;
  try {
    view = await withTimeout(c.kind === 'layers' ? openLayers(paths, opts) : openImage(paths[0], opts), 10_000, c.name);
  } catch (e) {
    error = e;
  }
  try {
    if (error !== undefined) {
      if (!(error instanceof ArchiveError)) {
        t.fail(`${c.name}: expected an ArchiveError, got ${(error as Error)?.stack ?? String(error)}`);
        return;
      }
      t.true(paths.includes(error.file) || error.file === paths.join(', '), `error names the input: ${error.file}`);
      t.true(error.message.startsWith(`${error.file}: `), error.message);
      if (c.error) t.is(error.code, c.error, error.message);
      else t.is(error.code, 'TRUNCATED', error.message); // the truncation cases without a fixed answer
      if (c.message) t.regex(error.message, c.message);
      t.false(c.view !== undefined, `${c.name} should have loaded: ${error.message}`);
    } else {
      t.is(c.error, undefined, `${c.name} should have failed with ${c.error}`);
      t.notThrows(() => view!.manifest());
      if (c.view) checkView(t, view!, c.view);
      // Writing through the view touches nothing on disk.
      view!.fs.writeFileSync('/written-by-test', 'x');
      for (const name of view!.fs.readdirSync('/') as string[]) view!.fs.rmSync(`/${name}`, { recursive: true, force: true });
    }
    if (c.warning)
      t.true(
        warnings.some((w) => c.warning!.test(w)),
        `a warning matches ${c.warning}: ${JSON.stringify(warnings)}`,
      );
    for (const w of warnings)
      t.true(
        paths.some((p) => w.startsWith(p)),
        `warning names the file: ${w}`,
      );
  } finally {
    view?.close();
  }
  t.deepEqual(
    paths.map((p) => sha(readFileSync(p))),
    before,
    'the inputs are unchanged',
  );
  t.deepEqual(readdirSync(dir).sort(), paths.map((_, i) => `${i + 1}.tar`).sort(), 'nothing written beside the inputs');
  t.deepEqual(readdirSync(spill), [], 'nothing left in the temp dir');
}

for (const c of cases) {
  test(`${c.name}: ${c.error ?? (c.view ? 'safe result' : 'TRUNCATED or a prefix')}`, async (t) => {
    await run(t, c, join(inputs, c.name));
  });
}

test('truncated at every block boundary: a prefix of the members, or TRUNCATED', async (t) => {
  const full = cases.filter((c) => c.name.startsWith('truncated-') && !c.name.includes('gzip'));
  t.true(full.length > 20, `${full.length} cut points`);
  let loaded = 0;
  for (const c of full) {
    try {
      const v = await openLayers(c.files);
      loaded++;
      v.close();
    } catch (e) {
      t.true(e instanceof ArchiveError && e.code === 'TRUNCATED', String(e));
    }
  }
  t.true(loaded > 0 && loaded < full.length, `${loaded} cuts after whole members load, the others are TRUNCATED`);
});

// Fuzzer findings: each must now load or fail typed.
const found = fileURLToPath(new URL('./corpus/found/', import.meta.url));
const foundFiles = existsSync(found)
  ? readdirSync(found)
      .filter((f) => f.endsWith('.tar'))
      .sort()
  : [];
for (const f of foundFiles) {
  test(`fuzzer finding ${f}: loads or fails typed`, async (t) => {
    const note = join(found, f.replace(/\.tar$/, '.json'));
    const kind = existsSync(note) ? (JSON.parse(readFileSync(note, 'utf8')) as { kind?: string }).kind : 'image';
    try {
      const v = await withTimeout(kind === 'layers' ? openLayers([join(found, f)]) : openImage(join(found, f)), 10_000, f);
      t.notThrows(() => v.manifest());
      v.close();
    } catch (e) {
      t.true(e instanceof ArchiveError || e instanceof StateError, (e as Error)?.stack ?? String(e));
    }
  });
}
