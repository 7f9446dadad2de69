/**
 * The shell's text filters, as GNU coreutils and grep print them: each reads its FILE operands,
 * or its standard input (the command before it in a pipe) when it has none or for `-`.
 * - head/tail [-n N | -N] [-c N]: the first/last N lines (10) or bytes; `tail -n +N` starts at
 *   line N; with several files each is headed `==> FILE <==`, a blank line between;
 * - wc [-l] [-w] [-c]: lines, words, bytes (all three by default), a total line for several
 *   inputs; columns as wide as GNU wc makes them (one count of one input: no padding; standard
 *   input among them: 7; else the digits of the files' total size);
 * - grep [-i] [-v] [-n] [-c] [-l] [-q] [-F] [-E] PATTERN [FILE...]: PATTERN is an extended regular
 *   expression (as grep -E; -F: a fixed string); lines are prefixed `FILE:` with several files;
 *   the status is 0 when a line matched, 1 when none did, 2 on an error (as grep).
 */
import { eachInput, ShellUsage, type Builtin } from './context.js';

/** Splits leading options, with `-n N`, `-nN` and `-N` for the counts. */
function countOptions(args: string[], name: string): { lines: number; bytes?: number; from?: boolean; files: string[] } {
  let lines = 10;
  let bytes: number | undefined;
  let from = false;
  let i = 0;
  const num = (v: string | undefined, opt: string): number => {
    const m = v === undefined ? null : /^(\+?)(\d+)$/.exec(v);
    if (!m) throw new ShellUsage(`invalid number of ${opt === '-c' ? 'bytes' : 'lines'}: ${JSON.stringify(v ?? '')}`);
    if (m[1]) from = true;
    return Number(m[2]);
  };
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (/^-\d+$/.test(a)) lines = Number(a.slice(1));
    else if (a === '-n' || a === '-c') {
      const v = num(args[++i], a);
      if (a === '-n') lines = v;
      else bytes = v;
    } else if (/^-[nc].+/.test(a)) {
      const v = num(a.slice(2), a.slice(0, 2));
      if (a[1] === 'n') lines = v;
      else bytes = v;
    } else if (a.startsWith('-') && a !== '-') throw new ShellUsage(`unknown option ${a} (${name} [-n N] [-c N] [FILE...])`);
    else break;
  }
  return { lines, bytes, from, files: args.slice(i) };
}

/** Byte offsets just past each line end ('\n'), plus the end when the last line has none. */
function lineEnds(data: Buffer): number[] {
  const ends: number[] = [];
  for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, i + 1)) ends.push(i + 1);
  if (data.length > 0 && data[data.length - 1] !== 10) ends.push(data.length);
  return ends;
}

function headed(ctx: Parameters<Builtin>[0], name: string, args: string[], pick: (data: Buffer, o: ReturnType<typeof countOptions>) => Buffer): number {
  const o = countOptions(args, name);
  let first = true;
  return eachInput(ctx, name, o.files, (data, file) => {
    if (o.files.length > 1) ctx.out(`${first ? '' : '\n'}==> ${file === '-' ? 'standard input' : file} <==\n`);
    first = false;
    ctx.out(pick(data, o));
  });
}

const head: Builtin = (ctx, args) =>
  headed(ctx, 'head', args, (data, o) => {
    if (o.bytes !== undefined) return data.subarray(0, o.bytes);
    const ends = lineEnds(data);
    return data.subarray(0, o.lines === 0 ? 0 : (ends[Math.min(o.lines, ends.length) - 1] ?? 0));
  });

const tail: Builtin = (ctx, args) =>
  headed(ctx, 'tail', args, (data, o) => {
    if (o.bytes !== undefined) return o.from ? data.subarray(Math.max(0, o.bytes - 1)) : data.subarray(Math.max(0, data.length - o.bytes));
    const ends = lineEnds(data);
    const startLine = o.from ? Math.max(0, o.lines - 1) : Math.max(0, ends.length - o.lines);
    return data.subarray(startLine === 0 ? 0 : (ends[startLine - 1] ?? data.length));
  });

const wc: Builtin = (ctx, args) => {
  let i = 0;
  const want = new Set<string>();
  for (; i < args.length && args[i]!.startsWith('-') && args[i] !== '-'; i++) {
    for (const ch of args[i]!.slice(1)) {
      if (!'lwc'.includes(ch)) throw new ShellUsage(`unknown option -${ch} (wc [-l] [-w] [-c] [FILE...])`);
      want.add(ch);
    }
  }
  const fields = ['l', 'w', 'c'].filter((f) => want.size === 0 || want.has(f));
  const files = args.slice(i);
  const rows: Array<{ counts: number[]; name?: string }> = [];
  let sizes = 0;
  const status = eachInput(ctx, 'wc', files, (data, file) => {
    sizes += data.length;
    const text = data.toString('latin1');
    const counts = { l: lineEnds(data).length - (data.length > 0 && data[data.length - 1] !== 10 ? 1 : 0), w: text.split(/[ \t\n\v\f\r]+/).filter((x) => x !== '').length, c: data.length };
    rows.push({ counts: fields.map((f) => counts[f as 'l' | 'w' | 'c']), name: files.length === 0 ? undefined : file });
  });
  if (rows.length > 1) rows.push({ counts: fields.map((_, k) => rows.reduce((n, r) => n + r.counts[k]!, 0)), name: 'total' });
  const stdin = files.length === 0 || files.includes('-');
  const width = rows.length === 1 && fields.length === 1 ? 1 : stdin ? 7 : String(sizes).length;
  for (const r of rows) ctx.out(r.counts.map((n) => String(n).padStart(width)).join(' ') + (r.name !== undefined ? ` ${r.name}` : '') + '\n');
  return status;
};

const grep: Builtin = (ctx, args) => {
  const flags = new Set<string>();
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-') && args[i] !== '-'; i++) {
    if (args[i] === '--') {
      i++;
      break;
    }
    for (const ch of args[i]!.slice(1)) {
      if (!'ivnclqFE'.includes(ch)) throw new ShellUsage(`unknown option -${ch} (grep [-ivnclqFE] PATTERN [FILE...])`);
      flags.add(ch);
    }
  }
  const pattern = args[i];
  if (pattern === undefined) throw new ShellUsage('usage: grep [-ivnclqFE] PATTERN [FILE...]');
  const files = args.slice(i + 1);
  let re: RegExp;
  try {
    re = new RegExp(flags.has('F') ? pattern.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&') : pattern, flags.has('i') ? 'i' : '');
  } catch (e) {
    throw new ShellUsage(`bad pattern ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
  let matched = false;
  const status = eachInput(ctx, 'grep', files, (data, file) => {
    const prefix = files.length > 1 ? `${file}:` : '';
    const lines = data.toString('latin1').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    let count = 0;
    for (const [n, line] of lines.entries()) {
      if (re.test(line) === flags.has('v')) continue;
      count++;
      matched = true;
      if (flags.has('q') || flags.has('l') || flags.has('c')) continue;
      ctx.out(Buffer.from(`${prefix}${flags.has('n') ? `${n + 1}:` : ''}${line}\n`, 'latin1'));
    }
    if (flags.has('c') && !flags.has('q')) ctx.out(`${prefix}${count}\n`);
    if (flags.has('l') && count > 0 && !flags.has('q')) ctx.out(`${file === '-' ? '(standard input)' : file}\n`);
  });
  if (status !== 0) return 2;
  return matched ? 0 : 1;
};

export const textBuiltins: Record<string, Builtin> = { head, tail, wc, grep };
