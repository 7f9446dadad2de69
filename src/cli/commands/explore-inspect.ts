/** `layerfs inspect IMAGE`: layers, what each changed, wasted space, efficiency, CI thresholds. */
import type { Command } from 'commander';
import type { Thresholds } from '../../explore/inspect.js';
import { paint, parseSize, printJson, UsageError } from '../output.js';
import { globals, openStack, shortDigest, sizeText } from './explore-common.js';
import { io, setExitCode } from '../io.js';

const HELP = `
Per layer: digest (of the blob as stored), size (uncompressed tar, and as stored), the history's
created_by, and the paths it added (A), modified (M) and deleted (D) in the flattened view. A
whiteout of a directory counts every path below it as deleted (the rules of the fixtures'
truth/step-N.changes).

Wasted space: every regular file stored in a layer is a copy; a copy is wasted when it is not
visible in the final image, because a later layer overwrote it ("overwritten", or "duplicate"
when the new copy has the same bytes) or deleted it (whiteout, opaque directory, parent replaced).
  total       = bytes of every copy in every layer
  efficiency  = 1 - wasted / total    (1 when there are no file bytes; dive's score, 0..1)
  user wasted = wasted / bytes of the copies in layers 2..N (above the base layer)

CI mode (--ci): exit 1 when a threshold is crossed, naming it; exit 0 otherwise. Without explicit
thresholds, dive's defaults apply: --lowest-efficiency 0.9 --highest-user-wasted-percent 0.1.
Ratios may be written 0.9 or 90%.`;

/** A ratio written `0.9` or `90%`, in 0..1. */
function ratio(text: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  const v = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(v >= 0 && v <= 1)) throw new UsageError(`${name} must be a ratio 0..1 or a percentage (0.9, 90%), got ${JSON.stringify(text)}`);
  return v;
}

const pct = (r: number): string => `${(r * 100).toFixed(2)}%`;

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .argument('<image>', 'archive path, OCI layout, or tag/id of a stored image')
    .description('layers, their changes, wasted space and efficiency (dive-style)')
    .option('--tag <tag>', 'which image, when the archive holds several')
    .option('--ci', 'check thresholds: exit 1 when one is crossed')
    .option('--lowest-efficiency <ratio>', 'CI: fail when efficiency is below this')
    .option('--highest-wasted-bytes <size>', 'CI: fail when wasted bytes exceed this (10M, 2048)')
    .option('--highest-user-wasted-percent <ratio>', 'CI: fail when wasted / user bytes exceeds this')
    .option('--limit <n>', 'wasted paths to list in text output (default 20; all with --json)', '20')
    .addHelpText('after', HELP)
    .action(async (ref: string, opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      const { out } = globals(cmd);
      const given = opts.lowestEfficiency !== undefined || opts.highestWastedBytes !== undefined || opts.highestUserWastedPercent !== undefined;
      if (given && !opts.ci) throw new UsageError('the threshold options need --ci');
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`--limit must be a whole number, got ${JSON.stringify(opts.limit)}`);
      let t: Thresholds = {};
      if (opts.ci) {
        t = given
          ? {
              lowestEfficiency: opts.lowestEfficiency === undefined ? undefined : ratio(String(opts.lowestEfficiency), '--lowest-efficiency'),
              highestWastedBytes: opts.highestWastedBytes === undefined ? undefined : parseSize(String(opts.highestWastedBytes)),
              highestUserWastedRatio: opts.highestUserWastedPercent === undefined ? undefined : ratio(String(opts.highestUserWastedPercent), '--highest-user-wasted-percent'),
            }
          : { lowestEfficiency: 0.9, highestUserWastedRatio: 0.1 };
      }
      const stack = await openStack(ref, cmd, { tag: opts.tag as string | undefined });
      try {
        const { ciCheck, inspect } = await import('../../explore/inspect.js');
        const { imageJson, localFacts } = await import('../../explore/image-info.js');
        const r = inspect(stack);
        const ci = opts.ci ? ciCheck(r.waste, t) : undefined;
        if (ci && !ci.pass) setExitCode(1);
        // The image's config in the one image shape `image inspect` prints (docs/json.md).
        if (out.json) return printJson({ ...r, ci, image: imageJson(localFacts(stack.image)) });
        const w = r.waste;
        const lines: string[] = [];
        lines.push(`${paint(out, 'bold', 'Image')}: ${r.file} (${r.format}${r.tags.length ? `, ${r.tags.join(', ')}` : ''}), ${r.layers.length} layer(s)`);
        lines.push('', paint(out, 'bold', '  #  DIGEST        SIZE        STORED          A      M      D  CREATED BY'));
        for (const l of r.layers) {
          lines.push(
            `${String(l.layer).padStart(3)}  ${shortDigest(l.digest)}  ${sizeShort(l.size).padStart(10)}  ${sizeShort(l.compressedSize).padStart(10)}  `
              + `${paint(out, 'green', String(l.added).padStart(5))}  ${paint(out, 'yellow', String(l.modified).padStart(5))}  ${paint(out, 'red', String(l.deleted).padStart(5))}  ${oneLine(l.createdBy ?? '-')}`,
          );
        }
        lines.push('', `${paint(out, 'bold', 'Total file bytes')}: ${sizeText(w.totalBytes)}`);
        lines.push(`${paint(out, 'bold', 'Wasted space')}: ${sizeText(w.wastedBytes)} in ${w.paths.length} path(s)`);
        lines.push(`${paint(out, 'bold', 'Efficiency')}: ${pct(w.efficiency)}   user wasted: ${pct(w.userWastedRatio)} of ${sizeText(w.userBytes)}`);
        for (const p of w.paths.slice(0, limit)) {
          const copies = p.copies.map((c) => `layer ${c.layer}: ${c.bytes} B ${c.reason}${c.by ? ` by layer ${c.by}` : ''}`).join('; ');
          lines.push(`  ${sizeShort(p.bytes).padStart(10)}  ${p.path}  (${copies})`);
        }
        if (w.paths.length > limit) lines.push(`  … ${w.paths.length - limit} more (--limit, or --json for all)`);
        if (ci) {
          lines.push('', `${paint(out, 'bold', 'CI')}: ${ci.pass ? paint(out, 'green', 'PASS') : paint(out, 'red', 'FAIL')}`);
          for (const c of ci.checks) {
            const show = (v: number): string => (c.rule === 'highest-wasted-bytes' ? `${v} B` : v.toFixed(4));
            lines.push(`  ${c.pass ? 'pass' : 'FAIL'} ${c.rule}: ${show(c.value)} (limit ${show(c.limit)})`);
          }
        }
        io().stdout.write(lines.join('\n') + '\n');
      } finally {
        stack.image.close();
      }
    });
}

function sizeShort(n: number): string {
  return n < 1024 ? `${n} B` : sizeText(n).replace(/ \(.*\)$/, '');
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 80 ? t.slice(0, 79) + '…' : t;
}
