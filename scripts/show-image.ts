/**
 * Opens an image and prints its layers and its merged tree, then shows one copy-up:
 *   npx tsx scripts/show-image.ts IMAGE [--tag TAG]
 * (The `layerfs` command of issue 4 will replace this script.)
 */
import { openImage } from '../src/index.js';
import type { Entry } from '../src/entry.js';

const [path, ...rest] = process.argv.slice(2);
if (!path) {
  console.error('usage: show-image IMAGE [--tag TAG]');
  process.exit(2);
}
const tagAt = rest.indexOf('--tag');
const tag = tagAt >= 0 ? rest[tagAt + 1] : undefined;

const size = (n: number) => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);

function line(e: Entry): string {
  const depth = e.path.split('/').length - 1;
  const name = e.path.slice(e.path.lastIndexOf('/') + 1);
  const mode = (e.mode & 0o7777).toString(8).padStart(4, '0');
  const extra = e.type === 'symlink' ? ` -> ${e.linkname}` : e.type === 'hardlink' ? ` (hard link to /${e.linkname})` : e.type === 'file' ? `  ${size(e.size)}` : e.type === 'dir' ? '/' : ` (${e.type})`;
  return `${'  '.repeat(depth)}${name}${extra}  [${mode} ${e.uid}:${e.gid}]`;
}

try {
  const view = await openImage(path, { tag });
  try {
    const img = view.image;
    console.log(`${path}: ${img.format}${img.tags.length ? ` (${img.tags.join(', ')})` : ''}, ${img.layers.length} layers`);
    for (const l of img.layers) {
      const counts = { A: 0, C: 0, D: 0 };
      for (const c of view.layerDiff(l.index + 1)) counts[c.kind]++;
      console.log(`  layer ${l.index + 1}  ${l.digest.slice(7, 19)}  ${size(l.size).padStart(9)}  +${counts.A} ~${counts.C} -${counts.D}  ${l.history?.created_by ?? ''}`);
    }
    const cfg = img.config.config;
    if (cfg.Env) console.log(`Env: ${cfg.Env.join(' ')}`);
    if (cfg.WorkingDir) console.log(`WorkingDir: ${cfg.WorkingDir}`);
    if (cfg.Volumes) console.log(`Volumes: ${Object.keys(cfg.Volumes).join(' ')}`);
    console.log('\nmerged tree:');
    for (const e of view.entries()) console.log('  ' + line(e));

    const target = view.entries().filter((e) => e.type === 'file').sort((a, b) => b.size - a.size)[0];
    if (target) {
      const fd = view.fs.openSync('/' + target.path, 'r+');
      view.fs.writeSync(fd, 'x', Math.floor(target.size / 2));
      view.fs.closeSync(fd);
      console.log(`\na 1-byte write into /${target.path} copied it up: ${view.stats.copyUps} objects, ${size(view.stats.copyUpBytes)} of data`);
      console.log('the writable layer now holds:');
      for (const e of view.upperEntries()) console.log(`  ${e.type.padEnd(9)} /${e.path}`);
    }
  } finally {
    view.close();
  }
} catch (e) {
  console.error(`show-image: ${(e as Error).message}`);
  process.exit(1);
}
