/**
 * Figure 6, the web page (`layerfs serve`), measured in Debian's Chromium (playwright-core) against
 * a real server child on port 0:
 *   - navigation → the layer list shown, and → the first tree level shown, on the bench image (the
 *     load figure's layer as an OCI layout: synthetic, or the Debian rootfs with --full), each in a
 *     fresh browser context (nothing cached);
 *   - a click on a 20,000-entry directory → its first rows shown, how many rows the DOM holds, the
 *     longest frame while scrolling through it, and a jump to its end → the last row shown.
 * "Shown" is the start of the animation frame after the rows entered the DOM (a MutationObserver
 * notes the mutation, requestAnimationFrame the frame), read from the page's own clock.
 * Baselines of the same run: the API answers the page waits for, fetched from Node (the floor of
 * any client), and the page's DOMContentLoaded (its bundle loaded and parsed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launch, missing, serve } from '../test/helpers/browser.js';
import { wideName, writeWideImage } from '../test/helpers/wide-image.js';
import { ociLayouts, syntheticImage, type Mode } from './load.js';
import type { Target } from './report.js';
import { figure, fmtFigure, fmtTime, type Figure } from './stats.js';
import { barChart } from './svg.js';

export const WIDE = 20_000;

export interface PageResult {
  skipped?: string;
  image?: string;
  /** The machine's 1-minute load average when the figure started (the page shares the CPU with everything). */
  loadAverage?: number;
  repeats?: number;
  layerList?: Figure;
  firstLevel?: Figure;
  domContentLoaded?: Figure;
  apiImage?: Figure;
  apiTree?: Figure;
  apiWide?: Figure;
  wideShown?: Figure;
  wideRows?: number;
  scrollFrameMax?: Figure;
  scrollFrameMedian?: Figure;
  wideEnd?: Figure;
}

/** Notes, on the page's clock, the first frame each selector is in the DOM. */
const MARKS = `(() => {
  const want = { layers: '[data-layer]', tree: '[data-testid="tree"] [data-path]', wide: '[data-path^="/wide/"]', end: '[data-path="/wide/${wideName(WIDE - 1)}"]' };
  const marks = (window.__marks = {});
  const seen = {};
  new MutationObserver(() => {
    for (const [k, sel] of Object.entries(want)) {
      if (seen[k] || !document.querySelector(sel)) continue;
      seen[k] = true;
      requestAnimationFrame(() => (marks[k] = performance.now()));
    }
  }).observe(document, { childList: true, subtree: true });
})();`;

/**
 * Scrolls the tree two screens a frame (at most 90 frames) and answers each frame's duration. A
 * string, not a function: tsx would wrap a named inner function in a helper the page lacks.
 */
const SCROLL = `new Promise((resolve) => {
  const el = document.querySelector('[data-testid="tree"]');
  const out = [];
  let last = performance.now();
  const step = () => {
    const now = performance.now();
    out.push(now - last);
    last = now;
    el.scrollTop += el.clientHeight * 2;
    if (out.length < 90 && el.scrollTop + el.clientHeight < el.scrollHeight - 1) requestAnimationFrame(step);
    else resolve(out.slice(1));
  };
  requestAnimationFrame(step);
})`;

const mark = (page: Page, k: string, timeout = 60_000): Promise<number> =>
  page.waitForFunction((key) => (window as unknown as { __marks: Record<string, number> }).__marks[key], k, { timeout, polling: 10 }).then((h) => h.jsonValue() as Promise<number>);

async function timeFetch(url: string, repeats: number): Promise<Figure> {
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    const r = await fetch(url);
    await r.arrayBuffer();
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    out.push(performance.now() - t0);
  }
  return figure(out);
}

export async function pageFigure(mode: Mode, repeats: number, log: (s: string) => void): Promise<PageResult> {
  const why = missing();
  if (why) {
    log(`  page: skipped (${why})`);
    return { skipped: why };
  }
  const load = loadavg()[0];
  const img = await syntheticImage(mode, log);
  const layout = (await ociLayouts(img)).tar;
  const scratch = mkdtempSync(join(tmpdir(), 'layerfs-bench-page-'));
  const wide = join(scratch, 'wide.tar');
  await writeWideImage(wide, WIDE);
  const server = await serve([layout, wide], { timeoutMs: 120_000 });
  const browser = await launch();
  try {
    const base = server.url.replace(/\/?(\?.*)?$/, '');
    const images = ((await (await fetch(`${base}/api/images`)).json()) as { images: Array<{ id: string; tags: string[] }> }).images;
    const wideId = images.find((i) => i.tags.includes('localhost/wide:latest'))!.id;
    const benchId = images.find((i) => i.id !== wideId)!.id;
    // Warm the server's caches (each image opened and flattened once) and the browser's code.
    await timeFetch(`${base}/api/images/${benchId}`, 1);
    await timeFetch(`${base}/api/images/${wideId}/tree?path=/wide&limit=1000`, 1);
    const apiImage = await timeFetch(`${base}/api/images/${benchId}`, repeats);
    const apiTree = await timeFetch(`${base}/api/images/${benchId}/tree?path=/`, repeats);
    const apiWide = await timeFetch(`${base}/api/images/${wideId}/tree?path=/wide&limit=1000`, repeats);
    const s = { layers: [] as number[], tree: [] as number[], dcl: [] as number[], wide: [] as number[], rows: 0, frameMax: [] as number[], frameMed: [] as number[], end: [] as number[] };
    // One discarded pass first warms the browser and the server (not in --smoke: it checks the figure works).
    for (let i = mode === 'smoke' ? 0 : -1; i < repeats; i++) {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      await context.addInitScript(MARKS);
      const page = await context.newPage();
      await page.goto(`${base}/#explore/${benchId}`);
      const layers = await mark(page, 'layers');
      const tree = await mark(page, 'tree');
      const dcl = await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).domContentLoadedEventEnd);
      await page.goto(`${base}/#explore/${wideId}`);
      await page.locator('[data-path="/wide"]').waitFor();
      const clicked = await page.evaluate(() => {
        const t = performance.now();
        (document.querySelector('[data-path="/wide"]') as HTMLElement).click();
        return t;
      });
      const shown = (await mark(page, 'wide')) - clicked;
      const rows = await page.locator('[data-testid="tree"] .vrow').count();
      const frames = (await page.evaluate(SCROLL)) as number[];
      const jumped = await page.evaluate(() => {
        const el = document.querySelector('[data-testid="tree"]') as HTMLElement;
        const t = performance.now();
        el.scrollTop = el.scrollHeight;
        return t;
      });
      const end = (await mark(page, 'end')) - jumped;
      await context.close();
      if (i < 0) continue;
      s.layers.push(layers);
      s.tree.push(tree);
      s.dcl.push(dcl);
      s.wide.push(shown);
      s.rows = Math.max(s.rows, rows);
      const sorted = [...frames].sort((a, b) => a - b);
      s.frameMax.push(sorted[sorted.length - 1] ?? 0);
      s.frameMed.push(sorted[sorted.length >> 1] ?? 0);
      s.end.push(end);
    }
    return {
      image: `${img.source} (${mode}), as an OCI layout; the wide directory in an image of its own`,
      repeats,
      loadAverage: load,
      layerList: figure(s.layers),
      firstLevel: figure(s.tree),
      domContentLoaded: figure(s.dcl),
      apiImage,
      apiTree,
      apiWide,
      wideShown: figure(s.wide),
      wideRows: s.rows,
      scrollFrameMax: figure(s.frameMax),
      scrollFrameMedian: figure(s.frameMed),
      wideEnd: figure(s.end),
    };
  } finally {
    await browser.close();
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

function mk(target: string, value: number, limit: number, detail: string): Target {
  return { figure: 'page', target, value, limit, op: 'le', pass: Number.isFinite(value) && value <= limit, detail };
}

/** The page's targets (RAIL's budgets: a view within 1 s, a response within ~0.1–0.5 s, 60 fps frames). */
export function pageTargets(p: PageResult | undefined): Target[] {
  if (!p || p.skipped || !p.layerList) return [];
  return [
    mk(
      'navigation → layer list shown ≤ 1000 ms (fresh context)',
      p.layerList.median,
      1000,
      `${fmtFigure(p.layerList)}; DOMContentLoaded ${fmtTime(p.domContentLoaded!.median)}, GET /api/images/ID alone ${fmtTime(p.apiImage!.median)}`,
    ),
    mk('navigation → first tree level shown ≤ 1000 ms', p.firstLevel!.median, 1000, `${fmtFigure(p.firstLevel!)}; GET …/tree?path=/ alone ${fmtTime(p.apiTree!.median)}`),
    mk(
      `a ${WIDE.toLocaleString('en-US')}-entry directory shown ≤ 500 ms after the click`,
      p.wideShown!.median,
      500,
      `${fmtFigure(p.wideShown!)}; its first page (1000 entries) from the API alone ${fmtTime(p.apiWide!.median)}`,
    ),
    mk(`the ${WIDE.toLocaleString('en-US')}-entry directory keeps ≤ 200 rows in the DOM`, p.wideRows!, 200, `${p.wideRows} rows rendered for ${WIDE + 2} in the list`),
    mk(
      'longest frame while scrolling through it ≤ 50 ms',
      p.scrollFrameMax!.median,
      50,
      `longest ${fmtFigure(p.scrollFrameMax!)}, median frame ${fmtFigure(p.scrollFrameMedian!)}; a jump to its end shows the last row in ${fmtFigure(p.wideEnd!)}`,
    ),
  ];
}

export function pageMarkdown(p: PageResult): string {
  let md = '## Page: the web explorer in Chromium\n\n';
  if (p.skipped) return md + `Skipped: ${p.skipped}\n`;
  md += `Image: ${p.image}. Each repetition opens a fresh browser context (no cache); "shown" is the start of the frame after the rows entered the DOM, on the page's clock (${p.repeats === 1 ? '1 repetition, smoke' : `${p.repeats} repetitions after one discarded`}). Load average when it started: ${p.loadAverage?.toFixed(1)} (the browser, the server and this script share the machine's cores).\n\n`;
  md += '| measure | time | baseline (same run) |\n|---|---|---|\n';
  md += `| navigation → layer list shown | ${fmtFigure(p.layerList!)} | DOMContentLoaded ${fmtFigure(p.domContentLoaded!)}; GET /api/images/ID from Node ${fmtFigure(p.apiImage!)} |\n`;
  md += `| navigation → first tree level shown | ${fmtFigure(p.firstLevel!)} | GET …/tree?path=/ from Node ${fmtFigure(p.apiTree!)} |\n`;
  md += `| click → ${WIDE.toLocaleString('en-US')}-entry directory shown | ${fmtFigure(p.wideShown!)} | its first 1000 entries from Node ${fmtFigure(p.apiWide!)} |\n`;
  md += `| scroll through it: longest frame | ${fmtFigure(p.scrollFrameMax!)} | median frame ${fmtFigure(p.scrollFrameMedian!)} |\n`;
  md += `| jump to its end → last row shown | ${fmtFigure(p.wideEnd!)} | |\n`;
  md += `\nRows in the DOM for the ${WIDE.toLocaleString('en-US')}-entry directory: ${p.wideRows}.\n`;
  return md;
}

export function pageChart(p: PageResult): string | undefined {
  if (p.skipped || !p.layerList) return undefined;
  const bar = (label: string, group: string, f: Figure) => ({ label, group, value: f.median, min: f.min, max: f.max });
  return barChart('Web page in Chromium (lower is better)', 'ms', [
    bar('navigation → layer list', 'page', p.layerList),
    bar('navigation → first tree level', 'page', p.firstLevel!),
    bar(`click → ${WIDE} entries shown`, 'page', p.wideShown!),
    bar('jump to the end → last row', 'page', p.wideEnd!),
    bar('longest scroll frame', 'page', p.scrollFrameMax!),
    bar('DOMContentLoaded', 'baseline', p.domContentLoaded!),
    bar('GET /api/images/ID (Node)', 'baseline', p.apiImage!),
    bar('GET …/tree?path=/ (Node)', 'baseline', p.apiTree!),
    bar('GET …/tree /wide, 1000 (Node)', 'baseline', p.apiWide!),
  ]);
}
