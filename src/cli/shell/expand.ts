/**
 * Word expansion, when a command runs (after the commands before it on the line), as sh does it:
 * - `$NAME` / `${NAME}` is the variable's value ('' when unset), `$?` the status of the last
 *   pipeline; a word that was only unquoted variables and expands to nothing is dropped. Values are
 *   not split on blanks (as zsh, unlike sh: quote-free `$VAR` is one word);
 * - a word with unquoted `*`, `?` or `[...]` is a glob, matched component by component against the
 *   container's filesystem: `*` and `?` never match `/`, nor a leading `.` unless the pattern
 *   starts with one; `[abc]`, `[a-z]`, `[!x]` / `[^x]` match one character; matches are sorted
 *   (byte order, as LC_ALL=C); a glob that matches nothing stays as written (sh's default).
 */
import { posix } from 'node:path';
import type { ShellContext } from './context.js';
import type { Word } from './parse.js';

interface Ch {
  ch: string;
  /** An unquoted glob character. */
  glob: boolean;
}

function chars(ctx: ShellContext, word: Word): Ch[] {
  const out: Ch[] = [];
  for (const p of word) {
    const text = 'text' in p ? p.text : p.var === '?' ? String(ctx.status) : (ctx.vars.get(p.var) ?? '');
    const glob = 'text' in p && !p.quoted;
    for (const ch of text) out.push({ ch, glob: glob && (ch === '*' || ch === '?' || ch === '[') });
  }
  return out;
}

/** A path component pattern as a RegExp, or undefined when `[` opens no bracket expression. */
function componentRegex(seg: Ch[]): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (!c.glob) {
      re += c.ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
      continue;
    }
    if (c.ch === '*') re += '[^/]*';
    else if (c.ch === '?') re += '[^/]';
    else {
      // A bracket expression up to the next `]` (a `]` right after `[` or `[!` is literal).
      let j = i + 1;
      let negate = false;
      if (seg[j]?.ch === '!' || seg[j]?.ch === '^') {
        negate = true;
        j++;
      }
      const start = j;
      if (seg[j]?.ch === ']') j++;
      while (j < seg.length && seg[j]!.ch !== ']') j++;
      if (j >= seg.length) {
        re += '\\[';
        continue;
      }
      const body = seg
        .slice(start, j)
        .map((x) => x.ch.replace(/[\\\]^]/g, '\\$&'))
        .join('');
      re += `[${negate ? '^' : ''}${body}]`;
      i = j;
    }
  }
  return new RegExp(`^${re}$`, 's');
}

/** Paths matching the glob `cs` (as written: relative ones stay relative to the working directory). */
function glob(ctx: ShellContext, cs: Ch[]): string[] {
  const segs: Ch[][] = [[]];
  for (const c of cs) {
    if (c.ch === '/') segs.push([]);
    else segs[segs.length - 1]!.push(c);
  }
  const absolute = cs[0]?.ch === '/';
  if (absolute) segs.shift();
  const fs = ctx.container.fs;
  let found: string[] = [absolute ? '/' : ''];
  for (const [n, seg] of segs.entries()) {
    const last = n === segs.length - 1;
    const next: string[] = [];
    for (const base of found) {
      const join = (name: string) => (base === '' ? name : base === '/' ? `/${name}` : `${base}/${name}`);
      if (seg.length === 0) {
        // `a//b` or a trailing `/`: keeps only directories.
        next.push(base === '' || base === '/' ? base : `${base}/`);
        continue;
      }
      if (!seg.some((c) => c.glob)) {
        next.push(join(seg.map((c) => c.ch).join('')));
        continue;
      }
      const dir = posix.resolve(ctx.cwd, base === '' ? '.' : base);
      const st = fs.statSync(dir, { throwIfNoEntry: false });
      if (!st?.isDirectory()) continue;
      const re = componentRegex(seg);
      const dotOk = seg[0]!.ch === '.';
      for (const name of (fs.readdirSync(dir) as string[]).map(String).sort()) {
        if (name.startsWith('.') && !dotOk) continue;
        if (!re.test(name)) continue;
        if (!last && !fs.statSync(posix.join(dir, name), { throwIfNoEntry: false })?.isDirectory()) continue;
        next.push(join(name));
      }
    }
    found = next;
  }
  return found.filter((p) => p !== '' && fs.lstatSync(posix.resolve(ctx.cwd, p), { throwIfNoEntry: false }) !== undefined).sort();
}

/** One word as the command gets it: none (an empty unquoted variable), one, or a glob's matches. */
export function expandWord(ctx: ShellContext, word: Word): string[] {
  const cs = chars(ctx, word);
  if (cs.length === 0 && word.every((p) => 'var' in p && !p.quoted)) return [];
  const text = cs.map((c) => c.ch).join('');
  if (!cs.some((c) => c.glob)) return [text];
  const matches = glob(ctx, cs);
  return matches.length > 0 ? matches : [text];
}

export function expandWords(ctx: ShellContext, words: Word[]): string[] {
  return words.flatMap((w) => expandWord(ctx, w));
}

/** A word that must stay one word (an assignment's value, a redirection's path). */
export function expandOne(ctx: ShellContext, word: Word): string {
  return chars(ctx, word)
    .map((c) => c.ch)
    .join('');
}
