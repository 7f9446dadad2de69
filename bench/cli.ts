/**
 * Figure 4, the command line (`--only cli`):
 *   - saving a shell command's change: after a small write in a container whose layer is big
 *     (many files, many MiB), Container.sync (one journal frame) against Container.save (the
 *     whole layer rewritten, as every save was before the journal), both fsynced, same run;
 *   - start-up: `layerfs --help` in a fresh process against `node -e 0` (node's own start-up),
 *     same run; the target is under 0.3 s of its own (the command minus node).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/engine/engine.js';
import { mk, type Target } from './report.js';
import { figure, fmtBytes, fmtFigure, fmtTime, type Figure } from './stats.js';

const SAMPLE = fileURLToPath(new URL('../images/sample.tar', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/layerfs.js', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/cli/bundle/main.js', import.meta.url));

export interface CliResult {
  layer: { files: number; bytes: number; tarBytes: number };
  sync: Figure;
  syncBytes: number;
  fullSave: Figure;
  help: Figure;
  node: Figure;
}

async function timeAsync(repeats: number, fn: (i: number) => Promise<void>): Promise<Figure> {
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return figure(out);
}

function timeProcess(repeats: number, args: string[]): Figure {
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return figure(out);
}

export async function cliFigure(mode: 'smoke' | 'quick' | 'full', repeats: number, log: (s: string) => void): Promise<CliResult> {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run npm run build first (npm run bench does)`);
  const [big, bigSize, small] = mode === 'smoke' ? [4, 256 << 10, 200] : mode === 'quick' ? [32, 1 << 20, 2000] : [128, 1 << 20, 10000];
  const home = mkdtempSync(join(tmpdir(), 'layerfs-bench-cli-'));
  try {
    const engine = await Engine.open({ home });
    const rec = await engine.create(SAMPLE, { name: 'big' });
    const c = await engine.open(rec.id);
    try {
      c.view.fs.mkdirSync('/data');
      for (let i = 0; i < big; i++) c.view.fs.writeFileSync(`/data/big-${i}`, Buffer.alloc(bigSize, i));
      for (let i = 0; i < small; i++) c.view.fs.writeFileSync(`/data/small-${i}`, `file ${i}\n`);
      await c.save();
      const tarBytes = statSync(join(home, 'containers', rec.id, 'layer.tar')).size;
      log(`  a container layer of ${big + small} files, ${fmtBytes(tarBytes)}`);
      const journal = join(home, 'containers', rec.id, 'layer.journal');
      const sync = await timeAsync(repeats, async (i) => {
        c.view.fs.writeFileSync(`/etc/precious-${i}`, 'precious\n');
        await c.sync();
      });
      const syncBytes = Math.round(statSync(journal).size / repeats);
      const fullSave = await timeAsync(repeats, async (i) => {
        c.view.fs.writeFileSync(`/etc/again-${i}`, 'precious\n');
        await c.save();
      });
      log(`  sync ${fmtFigure(sync)}, whole-layer save ${fmtFigure(fullSave)}`);
      const node = timeProcess(repeats, ['-e', '0']);
      const help = timeProcess(repeats, [BIN, '--help']);
      log(`  layerfs --help ${fmtFigure(help)}, node -e 0 ${fmtFigure(node)}`);
      return { layer: { files: big + small, bytes: big * bigSize, tarBytes }, sync, syncBytes, fullSave, help, node };
    } finally {
      c.dispose();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

export function cliTargets(r: CliResult): Target[] {
  return [
    mk(
      'cli',
      'saving a small change: sync ≤ 0.1× rewriting the whole layer',
      r.sync.median / r.fullSave.median,
      'le',
      0.1,
      `sync ${fmtTime(r.sync.median)} (${fmtBytes(r.syncBytes)} appended) vs whole-layer save ${fmtTime(r.fullSave.median)} (${fmtBytes(r.layer.tarBytes)}) of ${r.layer.files} files`,
    ),
    mk(
      'cli',
      "start-up: layerfs --help's own time (minus node -e 0) < 0.3 s",
      (r.help.median - r.node.median) / 1000,
      'lt',
      0.3,
      `layerfs --help ${fmtTime(r.help.median)} vs node -e 0 ${fmtTime(r.node.median)}`,
    ),
  ];
}

export function cliMarkdown(r: CliResult): string {
  let md = "## Command line: saving a shell command's change, and start-up\n\n";
  md += `A container whose layer holds ${r.layer.files} files (${fmtBytes(r.layer.tarBytes)} as layer.tar); each repetition writes one small file, then saves. Sync appends what changed to the journal; the baseline rewrites the whole layer (what every save did before). Both are on disk when they return: the sync's frame commits itself (one flush), the save fsyncs layer.tar and the record. Start-up: a fresh process each repetition.\n\n`;
  md += '| what | time | × baseline | bytes written |\n|---|---|---|---|\n';
  md += `| sync (journal frame) | ${fmtFigure(r.sync)} | ${(r.sync.median / r.fullSave.median).toFixed(3)}× | ${fmtBytes(r.syncBytes)} |\n`;
  md += `| whole-layer save (baseline) | ${fmtFigure(r.fullSave)} | 1× | ${fmtBytes(r.layer.tarBytes)} |\n`;
  md += `| layerfs --help | ${fmtFigure(r.help)} | ${(r.help.median / r.node.median).toFixed(2)}× | |\n`;
  md += `| node -e 0 (baseline) | ${fmtFigure(r.node)} | 1× | |\n`;
  return md;
}
