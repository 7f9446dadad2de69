/** `layerfs tree IMAGE [PATH]` and `layerfs ls IMAGE PATH`: the view after N layers, or what layer N changed. */
import type { Command } from 'commander';
import type { Item } from '../../explore/listing.js';
import type { Stack } from '../../explore/stack.js';
import { humanSize, paint, printJson, UsageError, type Out } from '../output.js';
import { nameBytes } from '../../archive/names.js';
import { globals, layerArg, openStack } from './explore-common.js';
import { pathBytes } from './explore-files.js';
import { io } from '../io.js';

const HELP = `
--layer N     the image as it was after its first N layers (0 = empty)
--changes N   only what layer N changed in the flattened view: A added, M modified (with the
              fields that differ), D deleted (a deleted directory lists every path below it)
--origin      the layer each path comes from; for a directory the lower layers it merges with,
              and the lower copies of the path it hides
Paths are literal: symlinks are not followed. Sizes are those of regular files.`;

const MARK_STYLE = { A: 'green', M: 'yellow', D: 'red' } as const;

function addCommon(c: Command): Command {
  return c
    .option('--tag <tag>', 'which image, when the archive holds several')
    .option('--layer <n>', 'view after the first N layers')
    .option('--changes <n>', 'only what layer N changed (A/M/D)')
    .option('--origin', 'show which layer each path comes from and what it hides')
    .addHelpText('after', HELP);
}

interface Opts {
  tag?: string;
  layer?: string;
  changes?: string;
  origin?: boolean;
}

/** The listing code, imported when a command runs (not for --help). */
let L: typeof import('../../explore/listing.js') &
  typeof import('../../explore/origin.js') & { normalPath: typeof import('../../explore/stack.js').normalPath; esc: typeof import('../../out/manifest.js').esc };

async function items(ref: string, path: string, opts: Opts, cmd: Command, depth?: number): Promise<{ stack: Stack; list: Item[] }> {
  L = {
    ...(await import('../../explore/listing.js')),
    ...(await import('../../explore/origin.js')),
    normalPath: (await import('../../explore/stack.js')).normalPath,
    esc: (await import('../../out/manifest.js')).esc,
  };
  const { listItems, NotFound, normalPath } = L;
  if (opts.layer !== undefined && opts.changes !== undefined) throw new UsageError('--layer and --changes cannot be used together');
  let base: string;
  try {
    base = normalPath(path);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const stack = await openStack(ref, cmd, { tag: opts.tag });
  try {
    const layer = layerArg(opts.layer, stack, '--layer');
    const changes = layerArg(opts.changes, stack, '--changes', 1);
    const list = (at: string) => listItems(stack, at, { layer, changes, origin: opts.origin, depth });
    try {
      return { stack, list: list(base) };
    } catch (e) {
      // Rows are named as ls prints them: a path typed with its raw characters (a backslash, a
      // tab) is tried in that printed form too.
      const printed = L.esc(nameBytes(base));
      if (!(e instanceof NotFound) || printed === base) throw e;
      return { stack, list: list(printed) };
    }
  } catch (e) {
    stack.image.close();
    if (e instanceof NotFound) throw new Error(e.message);
    throw e;
  }
}

function suffix(out: Out, it: Item): string {
  let s = '';
  if (it.row.type === 'l') s += ` -> ${it.row.target}`;
  if (it.change) s += `  ${paint(out, MARK_STYLE[it.change], `[${it.change}${it.fields ? ` ${it.fields.join(',')}` : ''}]`)}`;
  if (it.origin) s += `  ${paint(out, 'dim', `(${L.originText(it.origin)})`)}`;
  return s;
}

function sizeOf(it: Item): string {
  return it.row.type === 'f' ? humanSize(it.row.size) : '';
}

export function registerTree(program: Command): void {
  addCommon(
    program
      .command('tree')
      .argument('<image>', 'archive path, OCI layout, or tag/id of a stored image')
      .argument('[path]', 'directory to show', '/')
      .description('the file tree of an image (after N layers, or what one layer changed)'),
  ).action(async (ref: string, path: string, opts: Opts, cmd: Command) => {
    const { out } = globals(cmd);
    const { stack, list } = await items(ref, path, opts, cmd);
    try {
      if (out.json) return printJson(itemsJson(list));
      const base = L.normalPath(path);
      const kids = new Map<string, Item[]>();
      for (const it of list) {
        const p = it.row.path;
        const parent = p.lastIndexOf('/') <= 0 ? '/' : p.slice(0, p.lastIndexOf('/'));
        const siblings = kids.get(parent);
        if (siblings) siblings.push(it);
        else kids.set(parent, [it]);
      }
      const lines: string[] = [paint(out, 'bold', base)];
      const walk = (dir: string, indent: string): void => {
        const children = kids.get(dir) ?? [];
        children.forEach((it, i) => {
          const last = i === children.length - 1;
          const name = it.row.path.slice(it.row.path.lastIndexOf('/') + 1);
          const size = sizeOf(it);
          const shown = it.row.type === 'd' ? paint(out, 'blue', name + '/') : name;
          lines.push(`${indent}${last ? '└── ' : '├── '}${shown}${size ? `  ${size}` : ''}${suffix(out, it)}`);
          if (it.row.type === 'd') walk(it.row.path, indent + (last ? '    ' : '│   '));
        });
      };
      // A non-directory PATH lists itself.
      if (list.length === 1 && list[0].row.path === base) {
        lines[0] = `${base}${sizeOf(list[0]) ? `  ${sizeOf(list[0])}` : ''}${suffix(out, list[0])}`;
      } else walk(base, '');
      io().stdout.write(lines.join('\n') + '\n');
    } finally {
      stack.image.close();
    }
  });
}

/** `--json` of tree and ls: each item as the library's itemJson, with its path first and its bytes. */
const itemsJson = (list: Item[]) =>
  list.map((it) => {
    const { path, ...rest } = L.itemJson(it);
    return { path, ...pathBytes(it.row), ...rest };
  });

export function registerLs(program: Command): void {
  addCommon(
    program
      .command('ls')
      .argument('<image>', 'archive path, OCI layout, or tag/id of a stored image')
      .argument('<path>', 'directory (its entries) or file (itself)')
      .description('list a directory of an image, ls -l style'),
  ).action(async (ref: string, path: string, opts: Opts, cmd: Command) => {
    const { out } = globals(cmd);
    const { stack, list } = await items(ref, path, opts, cmd, 1);
    try {
      if (out.json) return printJson(itemsJson(list));
      const lines = list.map((it) => {
        const r = it.row;
        const name = r.path === L.normalPath(path) ? r.path : r.path.slice(r.path.lastIndexOf('/') + 1);
        return (
          `${L.modeString(r.type, r.mode)}  ${`${r.uid}:${r.gid}`.padEnd(11)} ${(r.type === 'f' ? humanSize(r.size) : '-').padStart(9)}  `
          + `${r.type === 'd' ? paint(out, 'blue', name) : name}${suffix(out, it)}`
        );
      });
      if (lines.length) io().stdout.write(lines.join('\n') + '\n');
    } finally {
      stack.image.close();
    }
  });
}
