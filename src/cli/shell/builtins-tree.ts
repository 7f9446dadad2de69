/**
 * The shell's commands over trees and variables, all through the container's `fs` (so every write
 * follows the copy-up rules and every mount its own):
 * - touch [-c] PATH...: makes a missing file empty (not with -c), else sets its times to now (a
 *   change of metadata: an image file is copied up);
 * - find [PATH...] [-name GLOB] [-type f|d|l] [-maxdepth N]: each path, then what is below it,
 *   names in byte order (GNU find uses directory order), printed from the path as given;
 * - du [PATH...]: the apparent size of each file or tree (as `du -s --apparent-size`, for humans);
 * - cp [-r] FROM... TO: files; directories with -r (their files, directories and symlinks, modes
 *   kept); several sources go into the directory TO; without -r a directory is refused (GNU's words);
 * - env: the exported variables; export NAME[=VALUE]...; unset NAME...; true; false.
 */
import { posix } from 'node:path';
import { humanSize } from '../output.js';
import { abs, options, operands, ShellUsage, type Builtin, type ShellContext } from './context.js';

const touch: Builtin = (ctx, args) => {
  const { flags, rest } = options(args, 'c');
  const fs = ctx.container.fs;
  for (const p of operands(rest, 1, Infinity, 'touch [-c] PATH...')) {
    const path = abs(ctx, p);
    if (fs.existsSync(path)) {
      const now = new Date();
      fs.utimesSync(path, now, now);
    } else if (!flags.has('c')) fs.closeSync(fs.openSync(path, 'a'));
  }
};

/** A find -name GLOB as a RegExp (`*`, `?`, `[...]`, matched against the base name). */
function nameRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[' && glob.indexOf(']', i + 2) > 0) {
      const end = glob.indexOf(']', i + 2);
      const body = glob.slice(i + 1, end);
      re += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`;
      i = end;
    } else re += ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

const find: Builtin = (ctx, args) => {
  const starts: string[] = [];
  let i = 0;
  for (; i < args.length && !args[i]!.startsWith('-'); i++) starts.push(args[i]!);
  let name: RegExp | undefined;
  let type: string | undefined;
  let maxDepth = Infinity;
  for (; i < args.length; i++) {
    const [opt, v] = [args[i]!, args[i + 1]];
    if (v === undefined) throw new ShellUsage(`missing argument to \`${opt}'`);
    if (opt === '-name') name = nameRegex(v);
    else if (opt === '-type' && /^[fdl]$/.test(v)) type = v;
    else if (opt === '-maxdepth' && /^\d+$/.test(v)) maxDepth = Number(v);
    else throw new ShellUsage(`unknown predicate ${opt} ${v} (find [PATH...] [-name GLOB] [-type f|d|l] [-maxdepth N])`);
    i++;
  }
  const fs = ctx.container.fs;
  let status = 0;
  const visit = (shown: string, path: string, depth: number): void => {
    const st = fs.lstatSync(path);
    const t = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : '?';
    if ((!name || name.test(posix.basename(path))) && (!type || type === t)) ctx.out(shown + '\n');
    if (t !== 'd' || depth >= maxDepth) return;
    for (const n of (fs.readdirSync(path) as string[]).map(String).sort()) visit(shown.endsWith('/') ? shown + n : `${shown}/${n}`, posix.join(path, n), depth + 1);
  };
  for (const s of starts.length > 0 ? starts : ['.']) {
    try {
      visit(s, abs(ctx, s), 0);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      ctx.err(`find: ${s}: ${err.code ? err.message.split(', ')[0] : err.message}\n`);
      status = 1;
    }
  }
  return status;
};

const du: Builtin = (ctx, args) => {
  const fs = ctx.container.fs;
  const size = (p: string): number => {
    const st = fs.lstatSync(p);
    return st.isDirectory() ? (fs.readdirSync(p) as string[]).map(String).reduce((n, name) => n + size(posix.join(p, name)), 0) : st.size;
  };
  const rest = options(args, 's').rest;
  for (const p of rest.length > 0 ? rest : ['.']) ctx.out(`${humanSize(size(abs(ctx, p)))}\t${p}\n`);
};

/** Copies a tree (files, directories, symlinks; modes kept) from `from` to the new path `to`. */
function copyTree(ctx: ShellContext, from: string, to: string): void {
  const fs = ctx.container.fs;
  const st = fs.lstatSync(from);
  if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from) as string, to);
  else if (st.isDirectory()) {
    if (posix.relative(from, to).split('/')[0] !== '..' && posix.relative(from, to) !== '') {
      throw new ShellUsage(`cannot copy a directory, '${from}', into itself, '${to}'`);
    }
    if (!fs.existsSync(to)) fs.mkdirSync(to, { mode: st.mode & 0o7777 });
    for (const n of (fs.readdirSync(from) as string[]).map(String).sort()) copyTree(ctx, posix.join(from, n), posix.join(to, n));
    fs.chmodSync(to, st.mode & 0o7777);
  } else fs.copyFileSync(from, to);
}

const cp: Builtin = (ctx, args) => {
  const { flags, rest } = options(args, 'rR');
  const paths = operands(rest, 2, Infinity, 'cp [-r] FROM... TO').map((p) => abs(ctx, p));
  const to = paths.pop()!;
  const fs = ctx.container.fs;
  const toDir = fs.statSync(to, { throwIfNoEntry: false })?.isDirectory() ?? false;
  if (paths.length > 1 && !toDir) throw new ShellUsage(`target '${to}' is not a directory`);
  let status = 0;
  for (const from of paths) {
    const dest = toDir ? posix.join(to, posix.basename(from)) : to;
    if (fs.statSync(from).isDirectory() && !flags.has('r') && !flags.has('R')) {
      ctx.err(`cp: -r not specified; omitting directory '${from}'\n`);
      status = 1;
      continue;
    }
    copyTree(ctx, from, dest);
  }
  return status;
};

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const env: Builtin = (ctx, args) => {
  operands(args, 0, 0, 'env (prints the exported variables)');
  for (const n of [...ctx.exported].sort()) if (ctx.vars.has(n)) ctx.out(`${n}=${ctx.vars.get(n)}\n`);
};

const exportVars: Builtin = (ctx, args) => {
  if (args.length === 0) {
    for (const n of [...ctx.exported].sort()) if (ctx.vars.has(n)) ctx.out(`export ${n}=${JSON.stringify(ctx.vars.get(n))}\n`);
    return 0;
  }
  let status = 0;
  for (const a of args) {
    const eq = a.indexOf('=');
    const n = eq < 0 ? a : a.slice(0, eq);
    if (!NAME.test(n)) {
      ctx.err(`export: \`${a}': not a valid identifier\n`);
      status = 1;
      continue;
    }
    if (eq >= 0) ctx.vars.set(n, a.slice(eq + 1));
    ctx.exported.add(n);
  }
  return status;
};

const unset: Builtin = (ctx, args) => {
  for (const n of args) {
    ctx.vars.delete(n);
    ctx.exported.delete(n);
  }
};

export const treeBuiltins: Record<string, Builtin> = {
  touch,
  find,
  du,
  cp,
  env,
  export: exportVars,
  unset,
  true: () => 0,
  false: () => 1,
};
