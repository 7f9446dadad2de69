/**
 * The web page's views in a real headless Chromium (Debian's, driven by playwright-core) against one
 * real `layerfs serve` child (port 0, its own LAYERFS_HOME, a --bind-root), every expected value from
 * the fixtures' ground truth or from real tools, never from layerfs:
 * - lessons: every lesson of the lab walked through all its steps, each showing its docker command;
 *   the prediction a real engine makes true is confirmed by the page, and what each step reports is
 *   checked against what happened: the copied sizes against truth/rootfs.manifest, the image sizes
 *   against GNU tar's listing of the archive (`tar -tvf`), files in volumes and in the bind
 *   directory read from the host filesystem (node:fs at the mountpoint GET /api/volumes names),
 *   a committed image's files by GET …/file;
 * - the tree: sort by name (raw bytes) and by size (directory totals summed from
 *   truth/rootfs.manifest), the A/M/D filters and "larger than" against truth/step-2.changes and the
 *   step manifests, name search across the whole image against the manifests' base names;
 * - wasted space: bytes per cause and every wasted copy, derived from truth/layers.entries (the raw
 *   tar members, read by Python's tarfile) and the step manifests' sha256 and metadata;
 * - the treemap: each top-level rectangle's bytes are the manifest's sums and its area is
 *   proportional to them;
 * - compare: the A/C/D rows (and the fields of C) between two images are the diff of their
 *   truth/rootfs.manifest files;
 * - upload: a file-input upload shows its progress bar (upload throttled over CDP), then the image is
 *   in the image list with the config digest GNU tar's extraction of manifest.json names (and the
 *   sha256 of that config blob) and the diff_ids of truth/config.json; a hostile archive dropped on
 *   the page shows the same typed error `layerfs load` prints on stderr for the same file.
 * Every test fails on any console error or page error, and on any request to another host than the server.
 *
 * Without Chromium the suite fails under CI=true and is skipped, loudly, elsewhere.
 */
import anyTest, { type TestFn } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { allRows, launch, missing, openAll, openPage, serve, type Served } from './helpers/browser.js';
import { FIXTURES, truth } from './helpers/fixtures.js';

const test = anyTest as TestFn;
const BIN = new URL('../bin/layerfs.js', import.meta.url).pathname;
const why = missing();

interface Ctx {
  browser: Browser;
  server: Served;
  scratch: string;
  binds: string;
  ids: { layers: string; links: string };
}
let ctx: Ctx | undefined;

if (why && process.env.CI === 'true') {
  test('web views: Chromium and the built page are needed in CI', (t) => t.fail(why));
} else if (why) {
  process.stderr.write(`\n  SKIPPED test/web-browser-views.test.ts: ${why}\n\n`);
  test.skip(`web views in Chromium (skipped: ${why})`, () => undefined);
} else {
  test.before(async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'layerfs-web-views-'));
    const binds = join(scratch, 'binds');
    mkdirSync(binds);
    const [browser, server] = await Promise.all([launch(), serve([join(FIXTURES, 'layers/docker-archive.tar'), join(FIXTURES, 'links/docker-archive.tar'), '--bind-root', binds])]);
    const images = (await (await fetch(`${server.url.replace(/\/?(\?.*)?$/, '')}/api/images`)).json()) as { images: Array<{ id: string; tags: string[] }> };
    const id = (tag: string) => images.images.find((i) => i.tags.includes(tag))?.id ?? '';
    ctx = { browser, server, scratch, binds, ids: { layers: id('localhost/layers:latest'), links: id('localhost/links:latest') } };
  });
  test.after.always(async () => {
    await ctx?.browser.close();
    await ctx?.server.stop();
    if (ctx) rmSync(ctx.scratch, { recursive: true, force: true });
  });
}

const base = () => ctx!.server.url.replace(/\/?(\?.*)?$/, '');
const getJson = async <T>(path: string): Promise<T> => (await (await fetch(base() + path)).json()) as T;

/** A fresh page at `hash` (helpers/browser.ts openPage): the test fails on any console error or foreign request. */
const open = (t: { teardown(fn: () => Promise<void>): void }, hash: string) => openPage(ctx!.browser, base(), t, hash);

/** A child's exit status and output (not spawnSync: the page goes on meanwhile). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr!.on('data', (d: Buffer) => (stderr += d));
    c.on('error', reject);
    c.on('close', (status) => resolve({ status, stderr }));
  });
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

// ---- ground truth readers (the fixtures' files, parsed here; no layerfs code) ----

interface MRow {
  path: string;
  type: string;
  mode: string;
  uid: string;
  gid: string;
  size: number;
  sha: string;
  target: string;
  linkgroup: string;
  xattrs: string;
}
function manifest(image: string, file: string): Map<string, MRow> {
  const out = new Map<string, MRow>();
  for (const l of truth(image, file).split('\n')) {
    if (!l || l.startsWith('#')) continue;
    const [path, type, mode, uid, gid, size, sha, target, linkgroup, xattrs] = l.split('\t');
    out.set(path, { path, type, mode, uid, gid, size: size === '-' ? 0 : Number(size), sha, target, linkgroup, xattrs });
  }
  return out;
}
const changes = (image: string, n: number) =>
  truth(image, `step-${n}.changes`)
    .split('\n')
    .filter(Boolean)
    .map((l) => ({ kind: l[0], path: l.split(' ')[1] }));
const parentOf = (p: string) => p.slice(0, Math.max(1, p.lastIndexOf('/'))) || '/';
const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);
/** Bytes of the regular files under `dir` in a manifest (each path counted, hard links too). */
const total = (m: Map<string, MRow>, dir: string) => [...m.values()].filter((r) => r.type === 'f' && r.path.startsWith(dir + '/')).reduce((s, r) => s + r.size, 0);

/** Each layer's raw tar members (truth/layers.entries: name, type, mode, uid, gid, size, …). */
function layerEntries(image: string): Array<Array<{ path: string; type: string }>> {
  const layers: Array<Array<{ path: string; type: string }>> = [];
  for (const l of truth(image, 'layers.entries').split('\n')) {
    if (l.startsWith('## layer')) layers.push([]);
    else if (l && !l.startsWith('#')) {
      const f = l.split('\t');
      layers[layers.length - 1].push({ path: '/' + f[0].replace(/^\.\//, '').replace(/\/$/, ''), type: f[1] });
    }
  }
  return layers;
}

/**
 * Wasted copies by the rules of docs/api.md ("waste"), from the raw layers and the step manifests:
 * a regular file stored in layer L is wasted when a later layer L' stores the path again
 * (different sha256: overwritten; same bytes, other mode/owner/xattrs: metadata-duplicate; all the
 * same: duplicate) or hides it (a whiteout of it or of a parent, an opaque parent, a parent
 * replaced by a non-directory: deleted); the first such layer decides.
 */
function truthWaste(image: string): { causes: Record<string, number>; paths: Map<string, Array<{ layer: number; cause: string; bytes: number }>> } {
  const layers = layerEntries(image);
  const steps = layers.map((_, i) => manifest(image, `step-${i + 1}.manifest`));
  const causes: Record<string, number> = { overwritten: 0, deleted: 0, 'metadata-duplicate': 0, duplicate: 0 };
  const paths = new Map<string, Array<{ layer: number; cause: string; bytes: number }>>();
  layers.forEach((entries, li) => {
    for (const e of entries) {
      if (e.type !== '0' || baseName(e.path).startsWith('.wh.')) continue;
      const mine = steps[li].get(e.path);
      if (mine?.type !== 'f') continue;
      let cause: string | undefined;
      for (let lj = li + 1; lj < layers.length && !cause; lj++) {
        for (const x of layers[lj]) {
          const name = baseName(x.path);
          const dir = parentOf(x.path);
          const under = (d: string) => e.path === d || e.path.startsWith(d === '/' ? '/' : d + '/');
          if (x.path === e.path && !name.startsWith('.wh.')) {
            const next = steps[lj].get(e.path)!;
            if (next.type !== 'f' || next.sha !== mine.sha) cause = 'overwritten';
            else if (next.mode !== mine.mode || next.uid !== mine.uid || next.gid !== mine.gid || next.xattrs !== mine.xattrs) cause = 'metadata-duplicate';
            else cause = 'duplicate';
          } else if (name === '.wh..wh..opq' && under(dir) && e.path !== dir) cause = 'deleted';
          else if (name.startsWith('.wh.') && under((dir === '/' ? '' : dir) + '/' + name.slice(4))) cause = 'deleted';
          else if (x.type !== '5' && !name.startsWith('.wh.') && e.path.startsWith(x.path + '/')) cause = 'deleted';
          if (cause) break;
        }
      }
      if (!cause) continue;
      causes[cause] += mine.size;
      paths.set(e.path, [...(paths.get(e.path) ?? []), { layer: li + 1, cause, bytes: mine.size }]);
    }
  });
  return { causes, paths };
}

/** "4.0 KiB" → 4096, "666 B" → 666 (the page's human sizes). */
function parseHuman(s: string): number {
  const m = /^([\d.]+) (B|KiB|MiB|GiB)$/.exec(s.trim());
  if (!m) return NaN;
  return Number(m[1]) * { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[m[2] as 'B'];
}
const near = (shown: number, want: number) => Math.abs(shown - want) <= Math.max(0.5, want * 0.05);

/** The tree's rows in order once no level is loading (the tree of the fixtures fits one window). */
async function settledRows(page: Page): Promise<Array<{ path: string; change: string }>> {
  await page.waitForFunction(() => !document.querySelector('.trow.note.loading'));
  return page
    .getByTestId('tree')
    .locator('[data-path]')
    .evaluateAll((els) => els.map((e) => ({ path: e.getAttribute('data-path')!, change: e.getAttribute('data-change') ?? '' })));
}

// ---- 2. the tree: sort, filters, search ----

test.serial('web: tree sort by name is raw byte order and by size is largest total first (truth/rootfs.manifest)', async (t) => {
  const { page, errors } = await open(t, `explore/${ctx!.ids.layers}`);
  const m = manifest('layers', 'rootfs.manifest');
  const top = [...m.keys()].filter((p) => parentOf(p) === '/');
  const size = (p: string) => (m.get(p)!.type === 'd' ? total(m, p) : m.get(p)!.size);
  await page.locator('[data-path="/etc"]').waitFor();
  t.deepEqual(
    (await settledRows(page)).map((r) => r.path),
    [...top].sort(byBytes),
    'by name: the root in raw byte order',
  );
  await page.getByTestId('sort-size').click();
  await page.getByTestId('sort-size').and(page.locator('.on')).waitFor();
  await page.locator('[data-path="/usr"]').waitFor();
  const bySize = (await settledRows(page)).map((r) => r.path);
  t.deepEqual([...bySize].sort(byBytes), [...top].sort(byBytes), 'by size: the same entries');
  t.deepEqual(
    bySize.map(size),
    top.map(size).sort((a, b) => b - a),
    `by size: totals largest first (${bySize.map((p) => `${p}=${size(p)}`).join(' ')})`,
  );
  // Inside a directory too: /etc's files by size.
  await page.locator('[data-path="/etc"]').click();
  await page.locator('[data-path="/etc/motd"]').waitFor();
  const etc = (await settledRows(page)).map((r) => r.path).filter((p) => parentOf(p) === '/etc');
  t.deepEqual(
    etc,
    [...m.keys()].filter((p) => parentOf(p) === '/etc').sort((a, b) => size(b) - size(a)),
    '/etc by size',
  );
  await page.getByRole('button', { name: 'Name', exact: true }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="tree"] [data-path]')?.getAttribute('data-path') === '/etc');
  t.deepEqual(
    (await settledRows(page)).map((r) => r.path).filter((p) => parentOf(p) === '/etc'),
    [...m.keys()].filter((p) => parentOf(p) === '/etc').sort(byBytes),
    '/etc by name again, still open',
  );
  t.deepEqual(errors, []);
});

test.serial('web: tree filters added/modified/deleted and larger-than keep exactly the matching rows (truth/step-2.changes)', async (t) => {
  const { page, errors } = await open(t, `explore/${ctx!.ids.layers}`);
  const ch = changes('layers', 2);
  const before = manifest('layers', 'step-1.manifest');
  const after = manifest('layers', 'step-2.manifest');
  await page.getByTestId('layers').locator('[data-layer="2"]').click();
  await page.getByTestId('view-changes').click();
  await page.locator('[data-path="/etc"]').waitFor();
  await openAll(page);
  const filters = page.getByRole('group', { name: 'show' });
  const chip = (name: string) => filters.locator('label', { hasText: name }).locator('input');
  const marked = async () => (await allRows(page)).filter((r) => r.change);
  const want = (kinds: string) =>
    ch
      .filter((c) => kinds.includes(c.kind))
      .map((c) => `${c.kind} ${c.path}`)
      .sort(byBytes);
  t.deepEqual((await marked()).map((r) => `${r.change} ${r.path}`).sort(byBytes), want('AMD'), 'no filter: every change');
  // Unchanged off too: in the changes view the unmarked rows are the directories on the way to changes.
  await chip('Unchanged').uncheck();
  await chip('Added').uncheck();
  await chip('Modified').uncheck();
  await page.waitForFunction(() => !document.querySelector('[data-testid="tree"] [data-change="A"]'));
  const onlyD = await allRows(page);
  t.deepEqual(
    onlyD
      .filter((r) => r.change)
      .map((r) => `${r.change} ${r.path}`)
      .sort(byBytes),
    want('D'),
    'deleted only',
  );
  // The unmarked rows left are the directories on the way to a deletion.
  const ways = new Set(
    want('D').flatMap((l) => {
      const out: string[] = [];
      for (let p = parentOf(l.slice(2)); p !== '/'; p = parentOf(p)) out.push(p);
      return out;
    }),
  );
  t.deepEqual(
    onlyD
      .filter((r) => !r.change)
      .map((r) => r.path)
      .sort(byBytes),
    [...ways].filter((p) => !ch.some((c) => c.path === p)).sort(byBytes),
    'the rest lead to deletions',
  );
  await chip('Deleted').uncheck();
  await chip('Added').check();
  await page.waitForFunction(() => !document.querySelector('[data-testid="tree"] [data-change="D"]'));
  t.deepEqual((await marked()).map((r) => `${r.change} ${r.path}`).sort(byBytes), want('A'), 'added only');
  await chip('Modified').check();
  await chip('Added').uncheck();
  await page.waitForFunction(() => !document.querySelector('[data-testid="tree"] [data-change="A"]'));
  t.deepEqual((await marked()).map((r) => `${r.change} ${r.path}`).sort(byBytes), want('M'), 'modified only');
  await chip('Unchanged').check();
  // Everything back, then ≥ 100 B: the changed regular files of at least 100 bytes (a deleted
  // one by the size it had), and no smaller file.
  await chip('Added').check();
  await chip('Deleted').check();
  await page.getByLabel('larger than (e.g. 10K, 2M)').fill('100');
  await page.waitForFunction(() => !document.querySelector('[data-testid="tree"] [data-path="/etc/snew.conf"]'));
  const big = (await allRows(page)).filter((r) => (after.get(r.path) ?? before.get(r.path))?.type === 'f');
  const fileOf = (c: { kind: string; path: string }) => (c.kind === 'D' ? before : after).get(c.path);
  t.deepEqual(
    big.map((r) => r.path).sort(byBytes),
    ch
      .filter((c) => fileOf(c)?.type === 'f' && fileOf(c)!.size >= 100)
      .map((c) => c.path)
      .sort(byBytes),
    '≥ 100 B: the changed files that large',
  );
  await page.getByLabel('larger than (e.g. 10K, 2M)').fill('');
  await page.locator('[data-path="/etc/snew.conf"]').waitFor();
  t.deepEqual(errors, []);
});

test.serial('web: name search runs across the whole image, unopened directories too, and a hit opens the tree at it (truth manifests)', async (t) => {
  const { page, errors } = await open(t, `explore/${ctx!.ids.layers}`);
  const m = manifest('layers', 'rootfs.manifest');
  await page.locator('[data-path="/etc"]').waitFor();
  const search = page.getByLabel('search names across the whole image');
  await search.fill('lib');
  const hits = page.getByTestId('hits');
  const want = [...m.values()].filter((r) => baseName(r.path).includes('lib'));
  await hits
    .locator('[data-path]')
    .nth(want.length - 1)
    .waitFor();
  const shown = await hits.locator('[data-path]').evaluateAll((els) => els.map((e) => e.getAttribute('data-path')!));
  t.deepEqual([...shown].sort(byBytes), want.map((r) => r.path).sort(byBytes), 'every path whose base name holds "lib"');
  t.regex((await hits.textContent()) ?? '', new RegExp(`^${want.length} matches`));
  // Largest first (docs/api.md): the file of 4096 bytes leads.
  const largest = want.filter((r) => r.type === 'f').sort((a, b) => b.size - a.size)[0];
  t.is(shown[0], largest.path);
  // At layer 2 the search sees the image after layer 2: /etc/snew.conf exists there only.
  await search.fill('');
  await page.getByTestId('layers').locator('[data-layer="2"]').click();
  await search.fill('conf');
  const step2 = [...manifest('layers', 'step-2.manifest').values()]
    .filter((r) => baseName(r.path).includes('conf'))
    .map((r) => r.path)
    .sort(byBytes);
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="hits"] [data-path]').length === n && document.querySelector('[data-testid="hits"] [data-path="/etc/snew.conf"]'),
    step2.length,
  );
  t.deepEqual((await hits.locator('[data-path]').evaluateAll((els) => els.map((e) => e.getAttribute('data-path')!))).sort(byBytes), step2);
  // A hit shows it in the tree, its parents opened and it selected.
  await hits.locator('[data-path="/etc/snew.conf"]').click();
  await page.locator('[data-testid="tree"] [data-path="/etc/snew.conf"][aria-selected="true"]').waitFor();
  t.is(await page.locator('[data-path="/etc"]').getAttribute('aria-expanded'), 'true');
  t.deepEqual(errors, []);
});

// ---- 3. wasted space ----

test.serial('web: wasted space by cause, with bytes per cause and every wasted copy (truth/layers.entries and step manifests)', async (t) => {
  const { page, errors } = await open(t, `waste/${ctx!.ids.layers}`);
  const w = truthWaste('layers');
  // The fixture has every cause the view explains but "hidden": the test would be empty otherwise.
  for (const c of ['overwritten', 'deleted', 'metadata-duplicate', 'duplicate']) t.true(w.causes[c] > 0, `the fixture has ${c} waste`);
  const panel = page.getByTestId('waste');
  await panel.locator('li[data-cause]').first().waitFor();
  const shown = Object.fromEntries(await panel.locator('li[data-cause]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-cause')!, Number(e.getAttribute('data-bytes'))])));
  t.deepEqual(shown, w.causes, 'bytes per cause');
  for (const [cause, n] of Object.entries(w.causes)) {
    const num = await panel.locator(`li[data-cause="${cause}"] .num`).textContent();
    t.true(near(parseHuman(num!), n), `${cause}: ${num} shown for ${n} B`);
  }
  const rows = await panel.locator('tr[data-path]').evaluateAll((els) =>
    els.map((e) => ({
      path: e.getAttribute('data-path')!,
      bytes: Number(e.getAttribute('data-bytes')),
      copies: [...e.querySelectorAll('[data-layer]')].map((c) => ({ layer: Number(c.getAttribute('data-layer')), cause: c.getAttribute('data-cause')!, bytes: Number(c.getAttribute('data-bytes')) })),
    })),
  );
  t.deepEqual(
    rows.map((r) => [r.path, r.copies] as const).sort((x, y) => byBytes(x[0], y[0])),
    [...w.paths].sort((x, y) => byBytes(x[0], y[0])),
    'every wasted copy: its layer, cause and bytes',
  );
  for (const r of rows)
    t.is(
      r.bytes,
      r.copies.reduce((s, c) => s + c.bytes, 0),
    );
  t.deepEqual(
    rows.map((r) => r.bytes),
    [...rows.map((r) => r.bytes)].sort((a, b) => b - a),
    'largest first',
  );
  // What a metadata-only duplicate was: chown of /opt/data/blob.bin (step-2.changes: "M … owner").
  t.regex((await panel.locator('tr[data-path="/opt/data/blob.bin"] [data-layer="1"]').textContent()) ?? '', /Metadata-only duplicate by layer 2 \(chown\)/);
  t.regex((await panel.locator('tr[data-path="/usr/bin/stool"] [data-layer="1"]').textContent()) ?? '', /Metadata-only duplicate by layer 2 \(chmod\)/);
  t.deepEqual(errors, []);
});

// ---- 4. treemap ----

test.serial("web: the treemap's top-level rectangles carry the manifest's bytes, with areas in proportion (truth/rootfs.manifest)", async (t) => {
  const { page, errors } = await open(t, `treemap/${ctx!.ids.layers}`);
  const m = manifest('layers', 'rootfs.manifest');
  const tm = page.getByTestId('treemap');
  await tm.locator('g[data-depth="1"]').first().waitFor();
  const read = () =>
    tm.locator('g[data-depth="1"]').evaluateAll((els) =>
      els.map((e) => ({
        path: e.getAttribute('data-path')!,
        bytes: Number(e.getAttribute('data-bytes')),
        area: Number(e.getAttribute('data-w')) * Number(e.getAttribute('data-h')),
        label: e.querySelector('text')?.textContent ?? '',
      })),
    );
  const check = (rects: Awaited<ReturnType<typeof read>>, dir: string) => {
    const kids = [...m.values()]
      .filter((r) => parentOf(r.path) === dir)
      .map((r) => ({ path: r.path, bytes: r.type === 'd' ? total(m, r.path) : r.type === 'f' ? r.size : 0 }))
      .filter((k) => k.bytes > 0);
    t.deepEqual(rects.map((r) => [r.path, r.bytes]).sort(), kids.map((k) => [k.path, k.bytes]).sort(), `${dir}: a rectangle for each entry with bytes, with its bytes`);
    const all = rects.reduce((s, r) => s + r.area, 0);
    const sum = kids.reduce((s, k) => s + k.bytes, 0);
    for (const r of rects) t.true(Math.abs(r.area / all - r.bytes / sum) < 0.02, `${r.path}: area share ${(r.area / all).toFixed(3)} for byte share ${(r.bytes / sum).toFixed(3)}`);
    for (const r of rects.filter((x) => x.label)) t.true(r.label.startsWith(baseName(r.path).slice(0, 3)), `${r.path} labelled ${r.label}`);
  };
  check(await read(), '/');
  t.true(
    (await read()).some((r) => r.label.startsWith('usr')),
    'the largest is labelled',
  );
  // Zooming into /usr: its children, the same rules.
  await tm.locator('g[data-path="/usr"] > rect').click({ position: { x: 5, y: 5 } });
  await page.waitForFunction(() => document.querySelector('[data-testid="treemap"] g[data-depth="1"]')?.getAttribute('data-path')?.startsWith('/usr/'));
  check(await read(), '/usr');
  t.deepEqual(errors, []);
});

// ---- 5. compare ----

test.serial("web: compare lists A/C/D and C's fields between two images as the diff of their truth manifests", async (t) => {
  const { page, errors } = await open(t, `diff/${ctx!.ids.layers}`);
  const a = manifest('layers', 'rootfs.manifest');
  const b = manifest('links', 'rootfs.manifest');
  const want: string[] = [];
  for (const p of b.keys()) if (!a.has(p)) want.push(`A ${p}`);
  for (const p of a.keys()) if (!b.has(p)) want.push(`D ${p}`);
  for (const [p, x] of a) {
    const y = b.get(p);
    if (!y) continue;
    const f: string[] = [];
    if (x.type !== y.type) f.push('type');
    if (x.mode !== y.mode) f.push('mode');
    if (x.uid !== y.uid || x.gid !== y.gid) f.push('owner');
    if (x.type === y.type && x.sha !== y.sha && x.type !== 'l') f.push('content');
    if (x.target !== y.target) f.push('target');
    if (x.linkgroup !== y.linkgroup) f.push('linkgroup');
    if (x.xattrs !== y.xattrs) f.push('xattrs');
    if (f.length) want.push(`C ${p} ${f.join(',')}`);
  }
  t.true(want.some((l) => l.startsWith('A')) && want.some((l) => l.startsWith('D')) && want.some((l) => l.startsWith('C')), want.join('\n'));
  const panel = page.getByTestId('diff-images');
  await panel.getByLabel('image to compare with').selectOption(ctx!.ids.links);
  await panel.locator('li[data-kind]').first().waitFor();
  const shown = await panel
    .locator('li[data-kind]')
    .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-kind')} ${e.getAttribute('data-path')}${e.getAttribute('data-kind') === 'C' ? ` ${e.getAttribute('data-fields')}` : ''}`));
  t.deepEqual(shown.sort(byBytes), want.sort(byBytes));
  for (const [k, title] of [
    ['A', 'Added'],
    ['D', 'Removed'],
    ['C', 'Changed'],
  ]) {
    t.regex((await panel.locator('h3', { hasText: title }).textContent()) ?? '', new RegExp(`${title} ${want.filter((l) => l[0] === k).length}$`));
  }
  t.deepEqual(errors, []);
});

// ---- 6. upload ----

test.serial('web: an uploaded archive shows progress, then is listed with the digest and diff_ids of the archive (GNU tar, truth/config.json)', async (t) => {
  const { page, errors } = await open(t, `explore/${ctx!.ids.layers}`);
  const file = join(FIXTURES, 'volumes/docker-archive.tar');
  // Ground truth from GNU tar: manifest.json's Config names the config blob; its sha256 is the digest.
  const man = JSON.parse(execFileSync('tar', ['-xOf', file, 'manifest.json'], { encoding: 'utf8' })) as Array<{ Config: string; RepoTags: string[] }>;
  const configBytes = execFileSync('tar', ['-xOf', file, man[0].Config]);
  const digest = sha256(configBytes);
  t.is(man[0].Config.replace(/\.json$/, '').replace(/^blobs\/sha256\//, ''), digest, 'the archive names its config by its sha256');
  const diffIds = (JSON.parse(truth('volumes', 'config.json')) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
  await page.locator('[data-path="/etc"]').waitFor();
  // Upload slowed to ~40 KB/s (under a second), so the bar is seen moving.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 40_000 });
  await page.evaluate(() => {
    const seen: string[] = ((window as unknown as { seen: string[] }).seen = []);
    new MutationObserver(() => {
      const v = document.querySelector('[data-testid="upload-progress"]')?.getAttribute('aria-valuenow');
      if (v !== undefined && v !== null && seen[seen.length - 1] !== v) seen.push(v);
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  await page.getByTestId('load-open').click();
  await page.getByTestId('upload-file').setInputFiles(file);
  await page.getByTestId('upload-progress').waitFor();
  t.regex((await page.getByTestId('upload-progress').textContent()) ?? '', /Uploading docker-archive\.tar/);
  await page.getByTestId('load-message').filter({ hasText: 'loaded' }).waitFor({ timeout: 20_000 });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  t.is(await page.getByTestId('upload-progress').count(), 0, 'the bar is gone once loaded');
  const seen = (await page.evaluate(() => (window as unknown as { seen: string[] }).seen)).map(Number);
  t.true(
    seen.some((v) => v > 0 && v < 100),
    `the bar moved through intermediate values: ${seen.join(',')}`,
  );
  t.deepEqual(
    seen,
    [...seen].sort((x, y) => x - y),
    'and only forward',
  );
  t.is(await page.getByTestId('load-message').textContent(), `loaded ${man[0].RepoTags[0]} (${(readFileSync(file).length / 1024).toFixed(1)} KiB)`);
  // Listed, shown (the page went to it), with the archive's digest and layers.
  await page.getByTestId('image-select').locator(`option[value="${digest}"]`).waitFor({ state: 'attached' });
  await page.waitForFunction((d) => (document.querySelector('[data-testid="image-select"]') as HTMLSelectElement | null)?.value === d, digest);
  t.regex((await page.getByTestId('image-select').locator(`option[value="${digest}"]`).textContent()) ?? '', new RegExp(`^${man[0].RepoTags[0]} `));
  const rec = (await getJson<{ images: Array<{ id: string; configDigest: string; tags: string[]; source: string }> }>('/api/images')).images.find((i) => i.id === digest);
  t.is(rec?.configDigest, `sha256:${digest}`);
  t.is(rec?.source, 'upload of docker-archive.tar');
  const detail = await getJson<{ layers: Array<{ diffId: string }> }>(`/api/images/${digest}`);
  t.deepEqual(
    detail.layers.map((l) => l.diffId),
    diffIds,
  );
  await page
    .getByTestId('layers')
    .locator('[data-layer]')
    .nth(diffIds.length - 1)
    .waitFor();
  t.deepEqual(errors, []);
});

test.serial('web: a hostile archive dropped on the page shows the typed error `layerfs load` prints for it', async (t) => {
  // Made with GNU tar: a docker-archive whose manifest names a layer outside the archive.
  const dir = join(ctx!.scratch, 'hostile');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: 'cfg.json', RepoTags: ['localhost/evil:1'], Layers: ['../../etc/passwd'] }]));
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] } }));
  const bad = join(ctx!.scratch, 'evil.tar');
  execFileSync('tar', ['--format=gnu', '-C', dir, '-cf', bad, 'manifest.json', 'cfg.json']);
  const home = mkdtempSync(join(ctx!.scratch, 'cli-home-'));
  // The CLI runs while the page opens.
  const [cli, { page, errors }] = await Promise.all([run(process.execPath, [BIN, 'load', bad], { ...process.env, LAYERFS_HOME: home, NO_COLOR: '1' }), open(t, `explore/${ctx!.ids.layers}`)]);
  t.is(cli.status, 1);
  const prefix = `layerfs: ${bad}: `;
  t.true(cli.stderr.startsWith(prefix), cli.stderr);
  const reason = cli.stderr.slice(prefix.length).trim();
  await page.locator('[data-path="/etc"]').waitFor();
  const before = (await getJson<{ images: unknown[] }>('/api/images')).images.length;
  // Dropped with the load popover closed: the page must still show the outcome.
  await page.evaluate((b64) => {
    const file = new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'evil.tar', { type: 'application/x-tar' });
    const dt = new DataTransfer();
    dt.items.add(file);
    for (const type of ['dragover', 'drop']) document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, readFileSync(bad).toString('base64'));
  const msg = page.getByTestId('load-message');
  await msg.waitFor();
  const text = (await msg.textContent()) ?? '';
  t.regex(text, /^[A-Z_]+: upload of evil\.tar: /, 'the typed code, then the archive as the user named it');
  t.is(text.replace(/^[A-Z_]+: upload of evil\.tar: /, ''), reason, 'the same reason as the CLI');
  t.is(await msg.getAttribute('role'), 'alert');
  t.is((await getJson<{ images: unknown[] }>('/api/images')).images.length, before, 'nothing was stored');
  // Chromium logs the refused upload's 400 itself, once: the answer under test, not a page error.
  const refused = 'console: Failed to load resource: the server responded with a status of 400 (Bad Request)';
  t.is(errors.filter((e) => e === refused).length, 1);
  t.deepEqual(
    errors.filter((e) => e !== refused),
    [],
  );
});

// ---- 1. lessons ----

/** The right prediction of each step with one, as a real engine behaves (docker/podman), by lesson. */
const ANSWERS: Record<string, RegExp[]> = {
  'copy-up': [/^the whole file, then/, /: the whole file$/, /^0 B$/],
  whiteout: [/^a whiteout/, /^no: it is a bit larger/],
  rm: [/^only \/data\/note$/],
  volumes: [/^only keep-/],
  bind: [/^yes$/],
  'volumes-from': [/^yes: it is the same volume/],
  commit: [/^only \/in-layer$/],
};

interface Volume {
  name: string;
  anonymous: boolean;
  mountpoint: string;
  usedBy: string[];
}
const volumes = async () => (await getJson<{ volumes: Volume[] }>('/api/volumes')).volumes;
const hostFile = (dir: string, name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : undefined);

test.serial('web: lessons: every lesson runs predict, act, observe, explain with its docker command, and reports what really happened', async (t) => {
  const { page, errors } = await open(t, `lab/${ctx!.ids.layers}`);
  const m = manifest('layers', 'rootfs.manifest');
  const files = [...m.values()].filter((r) => r.type === 'f' && r.size > 0);
  const largest = files.reduce((a, b) => (b.size > a.size ? b : a));
  // The image's layer tars, as GNU tar lists them, and their total: the image's size.
  const archive = join(FIXTURES, 'layers/docker-archive.tar');
  const tarLayers = (JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' })) as Array<{ Layers: string[] }>)[0].Layers;
  const listed = new Map(
    execFileSync('tar', ['-tvf', archive], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const f = l.trim().split(/\s+/);
        return [f[5], Number(f[2])];
      }),
  );
  const imageBytes = tarLayers.reduce((s, l) => s + listed.get(l)!, 0);
  const layerCount = (JSON.parse(truth('layers', 'config.json')) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids.length;

  // evaluateAll does not wait: the list is read once the lab has drawn it.
  await page.locator('[data-testid^="lesson-"]').first().waitFor();
  const lessons = await page.locator('[data-testid^="lesson-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.slice('lesson-'.length)));
  t.deepEqual(lessons.sort(), Object.keys(ANSWERS).sort(), 'the lessons listed are the seven of issue #10');
  for (const id of Object.keys(ANSWERS)) {
    await page.getByTestId(`lesson-${id}`).click();
    const lesson = page.getByTestId('lesson');
    await lesson.locator('.stepcard').waitFor();
    const n = await lesson.locator('ol.steps li').count();
    const results: string[] = [];
    const questions: string[] = [];
    let predicted = 0;
    for (let i = 0; i < n; i++) {
      await lesson.locator('h4', { hasText: `Step ${i + 1} of ${n}:` }).waitFor();
      const docker = (await lesson.locator('pre.docker').textContent()) ?? '';
      t.regex(docker, /^\$ (docker|podman) |\n\$ (docker|podman) /m, `${id} step ${i + 1} shows the docker command`);
      const predict = lesson.locator('fieldset.predict');
      if (await predict.count()) {
        questions.push((await predict.locator('legend').textContent()) ?? '');
        const choices = await predict.locator('label.choice').allTextContents();
        const right = choices.findIndex((c) => ANSWERS[id][predicted].test(c.trim()));
        t.true(right >= 0, `${id} step ${i + 1}: a choice matches ${ANSWERS[id][predicted]} in ${choices.join(' | ')}`);
        await predict.locator('label.choice').nth(right).locator('input').check();
        predicted++;
      }
      await lesson.getByTestId('lesson-act').click();
      await lesson.getByTestId('lesson-result').or(lesson.locator('.error')).first().waitFor({ timeout: 15_000 });
      t.is(await lesson.locator('.error').count(), 0, `${id} step ${i + 1}: ${await lesson.locator('.error').allTextContents()}`);
      results.push(((await lesson.getByTestId('lesson-result').locator('strong').textContent()) ?? '').trim());
      t.is(await lesson.locator('.phaseblock', { hasText: 'Explain' }).count(), 1, `${id} step ${i + 1} explains`);
      if (await predict.count())
        t.regex((await lesson.locator('.phaseblock', { hasText: 'Explain' }).textContent()) ?? '', /Your prediction was right\./, `${id} step ${i + 1}: the engine's answer is the page's`);
      if (i + 1 < n) await lesson.getByTestId('lesson-next').click();
    }
    t.is(predicted, ANSWERS[id].length, `${id}: every prediction was asked`);
    const vols = await volumes();
    const r = results;
    switch (id) {
      case 'copy-up': {
        const small = /copy-up (\S+): (.+) copied \(full\)/.exec(r[1]);
        t.truthy(small, r[1]);
        const row = m.get(small![1]);
        t.true(row?.type === 'f' && near(parseHuman(small![2]), row.size), `${small![1]}: ${small![2]} copied, the manifest says ${row?.size}`);
        t.true(questions[0].includes(small![1]));
        const big = /copy-up (\S+): (.+) copied \(full\)/.exec(r[2]);
        t.is(big?.[1], largest.path, 'the chmod lesson uses the largest file');
        t.true(near(parseHuman(big![2]), largest.size), `${big![2]} for ${largest.size} B`);
        t.is(r[3], `copy-up ${largest.path}: metadata only, 0 B of data (metadata)`);
        break;
      }
      case 'whiteout': {
        t.is(r[1], `whiteout at ${largest.path}`);
        const s = /^old image ([\d,]+) B in (\d+) layers; new image ([\d,]+) B in (\d+): the new layer adds ([\d,]+) B and deletes (\d+) path/.exec(r[2]);
        t.truthy(s, r[2]);
        const num = (x: string) => Number(x.replace(/,/g, ''));
        t.is(num(s![1]), imageBytes, 'the old size is the layer tars GNU tar lists');
        t.is(Number(s![2]), layerCount);
        t.is(Number(s![4]), layerCount + 1);
        t.is(num(s![3]), imageBytes + num(s![5]), 'the new image is the old one plus its new layer: larger');
        t.is(Number(s![6]), 1);
        break;
      }
      case 'rm': {
        const vol = /^\/data\/note → volume (\S+); \/note → container layer$/.exec(r[1]);
        t.truthy(vol, r[1]);
        t.regex(r[2], /^cat \/data\/note printed “kept”; cat \/note failed: .*ENOENT/);
        const v = vols.find((x) => x.name === vol![1]);
        t.is(v && hostFile(v.mountpoint, 'note'), 'kept\n', "the volume's file on the host");
        break;
      }
      case 'volumes': {
        const named = /\b(keep-[^,\s]+)/.exec(r[0])?.[1];
        t.truthy(named, r[0]);
        t.regex(r[0], /[0-9a-f]{12} \(anonymous\)/);
        const anon = /^removed anonymous: ([0-9a-f]{12}) \(anonymous\); (\S+) is still there$/.exec(r[1]);
        t.truthy(anon, r[1]);
        t.is(anon![2], named ?? '');
        const kept = vols.find((x) => x.name === named);
        t.is(kept && hostFile(kept.mountpoint, 'a'), 'a\n', 'the named volume and its file are still on the host');
        t.false(
          vols.some((x) => x.anonymous && x.name.startsWith(anon![1].slice(0, 12))),
          'the anonymous one is gone',
        );
        break;
      }
      case 'bind': {
        const w = /^(\/host\/(\S+)) → bind$/.exec(r[0]);
        t.truthy(w, r[0]);
        t.is(hostFile(ctx!.binds, w![2]), 'from-container\n', 'the file is in the bind directory on the host');
        t.is(r[1], `cat ${w![1]} printed “from-container”`);
        break;
      }
      case 'volumes-from': {
        const o = /^(\S+): cat \/shared\/msg printed “hi”$/.exec(r[1]);
        t.truthy(o, r[1]);
        const shared = vols.filter((x) => x.anonymous && x.usedBy.includes(o![1]));
        t.is(shared.length, 1);
        t.is(hostFile(shared[0].mountpoint, 'msg'), 'hi\n', "the guest's write is in the owner's volume on the host");
        t.true(shared[0].usedBy.length === 2, `used by both: ${shared[0].usedBy.join(', ')}`);
        break;
      }
      case 'commit': {
        t.is(r[0], '/in-layer → container layer; /data/in-volume → volume');
        t.is(r[1], `the new image has ${layerCount + 1} layers; /in-layer is in it; /data/in-volume is missing`);
        const tag = /as (localhost\/lesson-\S+)/.exec((await lesson.locator('ol.steps li').nth(1).textContent()) ?? '')?.[1];
        const img = (await getJson<{ images: Array<{ id: string; tags: string[] }> }>('/api/images')).images.find((i) => i.tags.includes(tag ?? ''));
        t.truthy(img, `the committed image ${tag} is listed`);
        const f = (p: string) => fetch(`${base()}/api/images/${img!.id}/file?path=${encodeURIComponent(p)}`);
        t.is(await (await f('/in-layer')).text(), 'layer\n');
        t.is((await f('/data/in-volume')).status, 404);
        const box = vols.find((x) => x.name.startsWith('vol-'));
        t.is(box && hostFile(box.mountpoint, 'in-volume'), 'volume\n', 'the file stayed in the volume');
        break;
      }
    }
    await lesson.getByRole('button', { name: 'Finish the lesson' }).click();
    await lesson.waitFor({ state: 'detached' });
  }
  t.deepEqual(errors, []);
});
