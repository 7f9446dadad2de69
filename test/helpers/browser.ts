/**
 * The web page in a real browser: Debian's Chromium driven by playwright-core (never a browser
 * playwright downloads), against a real `layerfs serve` child on port 0 with its own state
 * directory. Shared by test/web-browser*.test.ts and the page's benchmark (bench/page.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/layerfs.js');

export const hasChromium = (): boolean => existsSync(CHROMIUM);

/** Why the page cannot be tested here, or undefined when it can. */
export function missing(): string | undefined {
  if (!hasChromium()) return `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`;
  if (!existsSync(join(ROOT, 'dist/web/index.html')) || !existsSync(join(ROOT, 'dist/cli/main.js'))) return 'dist/ is not built: run `npm run build` first';
  return undefined;
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface Served {
  url: string;
  home: string;
  child: ChildProcess;
  stderr: () => string;
  stop: () => Promise<number | null>;
}

/** Starts `layerfs serve --port 0 ARGS` with a fresh LAYERFS_HOME; resolves once it printed its URL. */
export function serve(args: string[], opts: { home?: string; timeoutMs?: number } = {}): Promise<Served> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'layerfs-web-'));
  const own = opts.home === undefined;
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    env: { ...process.env, LAYERFS_HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 10_000))]);
    if (code === 'late') child.kill('SIGKILL');
    if (own) rmSync(home, { recursive: true, force: true });
    return code === 'late' ? null : code;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`layerfs serve did not print its URL within ${opts.timeoutMs ?? 20_000} ms; stdout: ${out} stderr: ${err}`));
    }, opts.timeoutMs ?? 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /^layerfs: serving (http:\/\/\S+)/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], home, child, stderr: () => err, stop });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`layerfs serve exited ${code} before serving: ${err}`));
    });
  });
}

/** Every console error and page error of a page, for the "no console errors" check. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return errors;
}

/**
 * A fresh page (its own context, 1440×900) at `base/#hash`, closed when the test ends, with its
 * console and page errors collected, and any request to another host than the server counted as
 * one: the page is offline by construction (no CDN, no fonts).
 */
export async function openPage(browser: Browser, base: string, t: { teardown(fn: () => Promise<void>): void }, hash: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  t.teardown(() => context.close());
  const page = await context.newPage();
  const errors = watchErrors(page);
  page.on('request', (r) => {
    if (!r.url().startsWith(base + '/') && !r.url().startsWith('data:')) errors.push(`request to another host: ${r.url()}`);
  });
  await page.goto(`${base}/#${hash}`);
  return { page, errors };
}

export interface TreeRow {
  path: string;
  change: string;
  fields: string;
  expanded: string | null;
}

/** Every row of the page's tree, scrolling the virtual list from top to bottom (it renders only a window). */
export async function allRows(page: Page): Promise<TreeRow[]> {
  const tree = page.getByTestId('tree');
  const seen = new Map<string, TreeRow>();
  await tree.evaluate((el) => (el.scrollTop = 0));
  for (;;) {
    for (const r of await tree.locator('[data-path]').evaluateAll((els) =>
      els.map((e) => ({
        path: e.getAttribute('data-path')!,
        change: e.getAttribute('data-change') ?? '',
        fields: e.getAttribute('data-fields') ?? '',
        expanded: e.getAttribute('aria-expanded'),
      })),
    ))
      seen.set(r.path, r);
    const done = await tree.evaluate((el) => {
      if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1) return true;
      el.scrollTop += el.clientHeight;
      return false;
    });
    if (done) break;
    await page.waitForTimeout(30);
  }
  return [...seen.values()];
}

/** Opens every directory of the tree, deleted ones included, until none is left closed. */
export async function openAll(page: Page): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const closed = (await allRows(page)).filter((r) => r.expanded === 'false');
    if (!closed.length) break;
    for (const r of closed) {
      // A click can land on a neighbour when a level that just loaded moves the rows under it
      // (a loaded machine): then this row is still closed, and is clicked again.
      for (let tries = 1; ; tries++) {
        await page.locator(`[data-path="${r.path}"]`).scrollIntoViewIfNeeded();
        await page.locator(`[data-path="${r.path}"]`).click();
        const opened = await page
          .locator(`[data-path="${r.path}"][aria-expanded="true"]`)
          .waitFor({ timeout: 5000 })
          .then(
            () => true,
            () => false,
          );
        if (opened || (await page.locator(`[data-path="${r.path}"]`).getAttribute('aria-expanded')) === 'true') break;
        if (tries === 5) throw new Error(`${r.path} did not open after ${tries} clicks`);
      }
    }
    await page.waitForFunction(() => !document.querySelector('.trow.note.loading'));
  }
}
