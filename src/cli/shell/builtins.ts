/**
 * The shell's commands, one small function each, all through the container's `fs` (so every write
 * follows the copy-up rules, and every mount its own). Errors from `fs` are thrown and printed by
 * the session as `NAME: PATH: CODE: text`; the shell then goes on.
 */
import { constants as C } from 'node:fs';
import { posix } from 'node:path';
import { textBuiltins } from './builtins-text.js';
import { treeBuiltins } from './builtins-tree.js';
import { abs, eachInput, operands, options, ShellUsage, type Builtin, type ShellContext } from './context.js';
import { describeWhere, whereIs } from './layers.js';

const isDir = (ctx: ShellContext, p: string) => ctx.container.fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

/** `mv`/`cp`/`ln` into an existing directory put the object inside it, under its own name. */
const into = (ctx: ShellContext, from: string, to: string) => (isDir(ctx, to) ? posix.join(to, posix.basename(from)) : to);

/** `drwxr-xr-x`-style mode string. */
export function modeString(mode: number): string {
  const type = { [C.S_IFDIR]: 'd', [C.S_IFLNK]: 'l', [C.S_IFCHR]: 'c', [C.S_IFBLK]: 'b', [C.S_IFIFO]: 'p', [C.S_IFSOCK]: 's' }[mode & C.S_IFMT] ?? '-';
  const rwx = (b: number, special: number, ch: string) => (b & 4 ? 'r' : '-') + (b & 2 ? 'w' : '-') + (special ? (b & 1 ? ch : ch.toUpperCase()) : b & 1 ? 'x' : '-');
  return type + rwx((mode >> 6) & 7, mode & 0o4000, 's') + rwx((mode >> 3) & 7, mode & 0o2000, 's') + rwx(mode & 7, mode & 0o1000, 't');
}

const fileType = (mode: number) =>
  ({ [C.S_IFDIR]: 'directory', [C.S_IFLNK]: 'symbolic link', [C.S_IFREG]: 'regular file', [C.S_IFCHR]: 'character device', [C.S_IFBLK]: 'block device', [C.S_IFIFO]: 'fifo' })[mode & C.S_IFMT]
  ?? 'other';

/** ls [-l] [-a] [PATH...]: names sorted; a directory lists its entries, anything else itself. */
const ls: Builtin = (ctx, args) => {
  const { flags, rest } = options(args, 'la');
  const fs = ctx.container.fs;
  const line = (path: string, name: string) => {
    if (!flags.has('l')) return `${name}\n`;
    const st = fs.lstatSync(path);
    const link = st.isSymbolicLink() ? ` -> ${fs.readlinkSync(path)}` : '';
    return `${modeString(st.mode)} ${String(st.nlink).padStart(2)} ${st.uid} ${st.gid} ${String(st.size).padStart(8)} ${name}${link}\n`;
  };
  for (const arg of rest.length > 0 ? rest : ['.']) {
    const path = abs(ctx, arg);
    const st = fs.statSync(path);
    if (!st.isDirectory()) {
      ctx.out(line(path, arg));
      continue;
    }
    if (rest.length > 1) ctx.out(`${arg}:\n`);
    for (const name of fs.readdirSync(path).map(String).sort()) {
      if (name.startsWith('.') && !flags.has('a')) continue;
      ctx.out(line(posix.join(path, name), name));
    }
  }
};

/** cat [PATH...]: the bytes of each file (standard input for `-` or no PATH); a missing one is skipped, status 1. */
const cat: Builtin = (ctx, args) => eachInput(ctx, 'cat', options(args, '').rest, (data) => ctx.out(data));

/** echo [-n] TEXT...: the words, one blank apart, and a new line (none with -n). */
const echo: Builtin = (ctx, args) => {
  const n = args[0] === '-n';
  ctx.out(args.slice(n ? 1 : 0).join(' ') + (n ? '' : '\n'));
};

/** rm [-r] [-f] PATH...: a directory only with -r; -f ignores missing paths. */
const rm: Builtin = (ctx, args) => {
  const { flags, rest } = options(args, 'rRf');
  const fs = ctx.container.fs;
  for (const p of operands(rest, 1, Infinity, 'rm [-r] [-f] PATH...')) {
    const path = abs(ctx, p);
    const st = fs.lstatSync(path, { throwIfNoEntry: false });
    if (!st && flags.has('f')) continue;
    if (st?.isDirectory() && !flags.has('r') && !flags.has('R')) throw new ShellUsage(`${p}: is a directory (use rm -r)`);
    if (st?.isDirectory()) fs.rmSync(path, { recursive: true });
    else fs.unlinkSync(path);
  }
};

/** mkdir [-p] PATH...: -p makes missing parents and accepts an existing directory. */
const mkdir: Builtin = (ctx, args) => {
  const { flags, rest } = options(args, 'p');
  for (const p of operands(rest, 1, Infinity, 'mkdir [-p] PATH...')) ctx.container.fs.mkdirSync(abs(ctx, p), { recursive: flags.has('p') });
};

/** mv FROM TO: a rename (EXDEV across mounts, or for an image directory, as overlayfs says). */
const mv: Builtin = (ctx, args) => {
  const [from, to] = operands(options(args, '').rest, 2, 2, 'mv FROM TO').map((p) => abs(ctx, p)) as [string, string];
  ctx.container.fs.renameSync(from, into(ctx, from, to));
};

/** ln [-s] TARGET NAME: a hard link, or with -s a symlink holding TARGET as written. */
const ln: Builtin = (ctx, args) => {
  const { flags, rest } = options(args, 's');
  const [target, name] = operands(rest, 2, 2, 'ln [-s] TARGET NAME') as [string, string];
  const at = into(ctx, target, abs(ctx, name));
  if (flags.has('s')) ctx.container.fs.symlinkSync(target, at);
  else ctx.container.fs.linkSync(abs(ctx, target), at);
};

/** chmod MODE PATH...: MODE in octal (e.g. 644, 0755). */
const chmod: Builtin = (ctx, args) => {
  const [mode, ...paths] = operands(args, 2, Infinity, 'chmod MODE PATH...');
  if (!/^[0-7]{1,4}$/.test(mode!)) throw new ShellUsage(`invalid mode: ${mode} (give it in octal, e.g. 644)`);
  for (const p of paths) ctx.container.fs.chmodSync(abs(ctx, p), parseInt(mode!, 8));
};

/** stat PATH...: type, size, mode, inode, links, owner and times, without following a symlink. */
const stat: Builtin = (ctx, args) => {
  for (const p of operands(options(args, '').rest, 1, Infinity, 'stat PATH...')) {
    const path = abs(ctx, p);
    const st = ctx.container.fs.lstatSync(path);
    const link = st.isSymbolicLink() ? ` -> ${ctx.container.fs.readlinkSync(path)}` : '';
    ctx.out(
      `  File: ${path}${link}\n  Size: ${st.size}\tType: ${fileType(st.mode)}\n`
        + `  Mode: (${(st.mode & 0o7777).toString(8).padStart(4, '0')}/${modeString(st.mode)})\tUid: ${st.uid}\tGid: ${st.gid}\n`
        + `Inode: ${st.ino}\tLinks: ${st.nlink}\n Modify: ${st.mtime.toISOString()}\n`,
    );
  }
};

/** where PATH...: the layer, volume, bind or tmpfs that serves the path, and what a copy-up cost. */
const where: Builtin = (ctx, args) => {
  for (const p of operands(options(args, '').rest, 1, Infinity, 'where PATH...')) {
    const path = abs(ctx, p);
    ctx.out(describeWhere(whereIs(ctx.container, path, ctx.volumeOrigin), ctx.costs.get(path)) + '\n');
  }
};

/** cd [PATH]: the working directory (default $HOME, else /). */
const cd: Builtin = (ctx, args) => {
  const [p] = operands(args, 0, 1, 'cd [PATH]');
  const path = abs(ctx, p ?? ctx.vars.get('HOME') ?? '/');
  if (!ctx.container.fs.statSync(path).isDirectory()) throw new ShellUsage(`${p}: not a directory`);
  ctx.cwd = path;
};

const pwd: Builtin = (ctx) => ctx.out(ctx.cwd + '\n');

const HELP = `commands (each sets $?: 0 ok, 1 failed, 2 misused, 127 unknown):
  ls [-l] [-a] [PATH...]    list             cat [PATH...]           print files (or the input)
  echo [-n] TEXT            print text       touch [-c] PATH...      make a file / set its times
  head/tail [-n N] [PATH]   first/last lines wc [-l] [-w] [-c] [PATH] count lines, words, bytes
  grep [-ivnclqFE] RE [PATH...]  matching lines (RE as grep -E)
  find [PATH] [-name GLOB] [-type f|d|l] [-maxdepth N]   du [PATH...]   sizes
  rm [-r] [-f] PATH...      remove           mkdir [-p] PATH...      make directories
  mv FROM TO                rename           cp [-r] FROM... TO      copy files (trees with -r)
  ln [-s] TARGET NAME       link             chmod MODE PATH...      change the mode
  stat PATH...              metadata         where PATH...           which layer, volume, bind or tmpfs
  cd [PATH], pwd, env, export NAME[=VALUE], unset NAME, NAME=VALUE, true, false, help, exit [STATUS]
Lines: cmd; cmd   cmd && cmd   cmd || cmd   cmd | cmd   cmd > PATH   cmd >> PATH   $NAME \${NAME} $?
'single' and "double" quotes; globs * ? [abc] match the container's files. Not supported: < << 2> &> & ( ) \` $(...).
After each command, what it did to the container layer is shown: copy-ups (with their bytes),
whiteouts and opaque directories, as the union recorded them.
`;
const help: Builtin = (ctx) => ctx.out(HELP);

export const builtins: Record<string, Builtin> = {
  ls,
  cat,
  echo,
  rm,
  mkdir,
  mv,
  ln,
  chmod,
  stat,
  where,
  cd,
  pwd,
  help,
  ...textBuiltins,
  ...treeBuiltins,
};
