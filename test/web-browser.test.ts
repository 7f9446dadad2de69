/**
 * The web page in a real headless Chromium (Debian's, driven by playwright-core) against a real
 * `layerfs serve` child (port 0, its own LAYERFS_HOME), checked against the fixtures' ground truth:
 * the layers and their created_by (truth/config.json history), a directory and a file
 * (truth/rootfs.manifest), layer 2's A/M/D marks (truth/step-2.changes), a copy-up and a volume
 * that survives rm in the lab, and a 20,000-entry directory that renders only a window of rows.
 * Every test fails on any console error or page error, and on any request to another host than the server. Screenshots go to test/output/;
 * `LAYERFS_WRITE_DOCS=1` also writes the explorer's as docs/web.png (the README's screenshot).
 *
 * Without Chromium the suite fails under CI=true and is skipped, loudly, elsewhere.
 */
import anyTest, { type TestFn } from 'ava';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { allRows, launch, missing, openAll, openPage, serve, type Served } from './helpers/browser.js';
import { FIXTURES, truth } from './helpers/fixtures.js';
import { wideName, writeWideImage } from './helpers/wide-image.js';

const test = anyTest as TestFn;
const OUT = new URL('./output/', import.meta.url).pathname;
const WIDE = 20_000;
const why = missing();

interface Ctx {
  browser: Browser;
  server: Served;
  scratch: string;
  ids: { layers: string; wide: string };
}
let ctx: Ctx | undefined;

if (why && process.env.CI === 'true') {
  test('web page: Chromium and the built page are needed in CI', (t) => t.fail(why));
} else if (why) {
  process.stderr.write(`\n  SKIPPED test/web-browser.test.ts: ${why}\n\n`);
  test.skip(`web page in Chromium (skipped: ${why})`, () => undefined);
} else {
  test.before(async () => {
    mkdirSync(OUT, { recursive: true });
    const scratch = mkdtempSync(join(tmpdir(), 'layerfs-web-test-'));
    const wide = join(scratch, 'wide.tar');
    mkdirSync(join(scratch, 'binds'));
    const [browser] = await Promise.all([launch(), writeWideImage(wide, WIDE)]);
    const server = await serve([join(FIXTURES, 'layers/docker-archive.tar'), wide, '--bind-root', join(scratch, 'binds')]);
    const images = (await (await fetch(`${server.url.replace(/\/?(\?.*)?$/, '')}/api/images`)).json()) as { images: Array<{ id: string; tags: string[]; source?: string }> };
    const find = (f: (i: { id: string; tags: string[]; source?: string }) => boolean) => images.images.find(f)?.id ?? '';
    ctx = { browser, server, scratch, ids: { layers: find((i) => i.source?.endsWith('layers/docker-archive.tar') ?? false), wide: find((i) => i.tags.includes('localhost/wide:latest')) } };
  });
  test.after.always(async () => {
    await ctx?.browser.close();
    await ctx?.server.stop();
    if (ctx) rmSync(ctx.scratch, { recursive: true, force: true });
  });
}

const base = () => ctx!.server.url.replace(/\/?(\?.*)?$/, '');

/** A fresh page at `hash` (helpers/browser.ts openPage): the test fails on any console error or foreign request. */
const open = (t: { teardown(fn: () => Promise<void>): void }, hash: string) => openPage(ctx!.browser, base(), t, hash);

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

test.serial('web: the layer list shows every layer with its created_by (truth/config.json history)', async (t) => {
  const { page, errors } = await open(t, `explore/${ctx!.ids.layers}`);
  const history = (JSON.parse(truth('layers', 'config.json')) as { history: Array<{ created_by?: string; empty_layer?: boolean }> }).history.filter((h) => !h.empty_layer);
  const layers = page.getByTestId('layers').locator('[data-layer]');
  await layers.nth(history.length - 1).waitFor();
  t.is(await layers.count(), history.length);
  t.deepEqual(
    await layers.locator('.lby').allTextContents(),
    history.map((h) => h.created_by),
  );
  // The image after its last layer is shown first: the root's directories are listed.
  await page.locator('[data-path="/etc"]').waitFor();
  await page.screenshot({ path: join(OUT, 'explorer-layers.png') });
  t.deepEqual(errors, []);
});

test.serial('web: a directory opens and a file shows its bytes (truth/rootfs.manifest)', async (t) => {
  const { page, errors } = await open(t, `explore/${ctx!.ids.layers}`);
  const manifest = new Map(
    truth('layers', 'rootfs.manifest')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.split('\t')[0], l.split('\t')]),
  );
  await page.locator('[data-path="/etc"]').click();
  const want = [...manifest.keys()].filter((p) => p.startsWith('/etc/') && !p.slice(5).includes('/')).sort(byBytes);
  await page.locator('[data-path="/etc/motd"]').waitFor();
  const shown = (await allRows(page)).map((r) => r.path).filter((p) => p.startsWith('/etc/'));
  t.deepEqual(shown, want, "/etc's entries are the manifest's");
  await page.locator('[data-path="/etc/motd"]').click();
  await page.getByTestId('details').getByText('View file').click();
  const text = page.getByTestId('text');
  await text.locator('.lt').first().waitFor();
  const lines = await text.locator('.lt').allTextContents();
  const body = lines.map((l) => (l === ' ' ? '' : l)).join('\n');
  const row = manifest.get('/etc/motd')!;
  t.true([sha256(body), sha256(body + '\n')].includes(row[6]), `the viewer shows /etc/motd's bytes (sha256 ${row[6]})`);
  await page.screenshot({ path: join(OUT, 'explorer-file.png') });
  t.deepEqual(errors, []);
});

test.serial("web: layer 2's A/M/D marks are truth/step-2.changes", async (t) => {
  const { page, errors } = await open(t, `explore/${ctx!.ids.layers}`);
  await page.getByTestId('layers').locator('[data-layer="2"]').click();
  await page.getByTestId('view-changes').click();
  await page.locator('[data-path="/etc"]').waitFor();
  await openAll(page);
  const marks = (await allRows(page)).filter((r) => r.change).map((r) => (r.change === 'M' ? `M ${r.path} ${r.fields}` : `${r.change} ${r.path}`));
  const want = truth('layers', 'step-2.changes').split('\n').filter(Boolean);
  t.deepEqual(marks.sort(byBytes), want.sort(byBytes));
  // The side panel of a file layer 2 modified: every layer that touched it.
  await page.getByTestId('tree').evaluate((el) => (el.scrollTop = 0));
  await page.locator('[data-path="/etc/sapp.conf"]').click();
  await page.getByTestId('versions').locator('li').first().waitFor();
  await page.screenshot({ path: join(OUT, 'explorer-changes.png') });
  if (process.env.LAYERFS_WRITE_DOCS === '1') copyFileSync(join(OUT, 'explorer-changes.png'), new URL('../docs/web.png', import.meta.url).pathname);
  t.deepEqual(errors, []);
});

test.serial('web: the lab reports a copy-up; after rm a new container sees the volume, not the old layer', async (t) => {
  const { page, errors } = await open(t, `lab/${ctx!.ids.layers}`);
  const size = Number(
    truth('layers', 'rootfs.manifest')
      .split('\n')
      .find((l) => l.startsWith('/etc/sapp.conf\t'))!
      .split('\t')[5],
  );
  const create = async (name: string) => {
    const form = page.getByTestId('create-form');
    await form.getByTestId('create-name').fill(name);
    if (!(await form.locator('.mountrow').count())) await form.getByText('+ mount').click();
    await form.getByTestId('create').click();
    await page.getByTestId('current').filter({ hasText: name }).waitFor();
  };
  const run = async (command: string) => {
    const before = await page.locator('.tcmd').count();
    await page.getByTestId('command').fill(command);
    await page.getByTestId('command').press('Enter');
    await page.locator('.tcmd').nth(before).waitFor();
    return page.locator('.tcmd').nth(before);
  };
  await create('lab1');
  const cu = await run('echo hi >> /etc/sapp.conf');
  const events = await cu.getByTestId('event').allTextContents();
  t.true(
    events.some((e) => e.includes(`copy-up /etc/sapp.conf: ${size} B copied (full)`)),
    `the copy-up of /etc/sapp.conf (${size} B) is reported: ${events.join('; ')}`,
  );
  await page.getByTestId('container-layer').locator('.up-copied-up').getByText('/etc/sapp.conf', { exact: true }).waitFor();
  const vol = await run('echo kept > /data/note; echo lost > /gone');
  t.regex((await vol.textContent()) ?? '', /write \/data\/note: 5 B into volume data/);
  // The strategy switch: with metadata-only copy-up, a chmod copies no data (OVL-16).
  await page.getByTestId('strategy-metadata').click();
  await page.getByTestId('strategy-metadata').and(page.locator('.on')).waitFor();
  const meta = await (await run('chmod 600 /etc/passwd')).getByTestId('event').allTextContents();
  t.true(
    meta.some((e) => e.includes('copy-up /etc/passwd: metadata only, 0 B of data (metadata)')),
    meta.join('; '),
  );
  await page.screenshot({ path: join(OUT, 'lab.png') });
  await page.getByTestId('rm').click();
  await page.getByTestId('current').waitFor({ state: 'detached' });
  await create('lab2');
  t.is((await (await run('cat /data/note')).locator('.stdout').textContent())?.trim(), 'kept', "the volume's file survived rm");
  t.regex((await (await run('cat /gone')).locator('.stderr').textContent()) ?? '', /ENOENT/, "the old container layer's file did not");
  t.deepEqual(errors, []);
});

test.serial('web: a 20,000-entry directory renders only a window of rows and scrolls to its end', async (t) => {
  const { page, errors } = await open(t, `explore/${ctx!.ids.wide}`);
  await page.locator('[data-path="/wide"]').click();
  const tree = page.getByTestId('tree');
  await page.locator(`[data-path="/wide/${wideName(0)}"]`).waitFor();
  t.is(Number(await tree.getAttribute('data-rows')), WIDE + 2, 'every entry has a row: /etc, /wide and its 20,000');
  const rendered = await tree.locator('.vrow').count();
  t.true(rendered > 10 && rendered < 200, `only a window is in the DOM (${rendered} rows)`);
  await tree.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await page.locator(`[data-path="/wide/${wideName(WIDE - 1)}"]`).waitFor();
  t.true((await tree.locator('.vrow').count()) < 200, 'still a window at the end');
  await page.screenshot({ path: join(OUT, 'wide.png') });
  t.deepEqual(errors, []);
});
