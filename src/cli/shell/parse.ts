/**
 * The shell's command line, read as sh reads it, for the forms the shell runs:
 * - lists: pipelines joined by `;` (or a new line), `&&` and `||`; pipelines: commands joined by `|`;
 * - words split on blanks; 'single quotes' keep everything; "double quotes" keep everything but
 *   `$` expansions and the escapes `\"` `\\` `\$`; outside quotes a backslash keeps the next
 *   character literally; `#` at the start of a word starts a comment;
 * - `$NAME`, `${NAME}` and `$?` are kept as variable parts, expanded when the command runs (so
 *   `export A=1; echo $A` sees the new value); unquoted `*`, `?` and `[` are kept as glob characters;
 * - `> PATH` and `>> PATH` send standard output to a file; `NAME=value` words alone set variables;
 * - every other shell form is refused as "not supported" (never taken as a word): `<`, here
 *   documents, `2>`-style and `&>` redirections, `&` (job control), `(` `)` (subshells), backticks
 *   and `$(...)` (command substitution);
 * - an unterminated quote, a `|`, `&&` or `||` without a command on each side, or `>` without a
 *   path is a syntax error. Either refuses the whole line.
 * Hand-written: shell-quote (1.12) takes `\*` for a glob, knows no `[...]` globs and cannot tell
 * `2>` from `2 >`, and every one of those changes what a command does.
 */

/** A piece of a word: literal text (unquoted text may hold glob characters), or a variable. */
export type Part = { text: string; quoted: boolean } | { var: string; quoted: boolean };
export type Word = Part[];

export interface Redirect {
  path: Word;
  append: boolean;
}

export interface ShellCommand {
  /** Leading `NAME=value` words (a command of only these sets shell variables). */
  assigns: Array<{ name: string; value: Word }>;
  argv: Word[];
  redirect?: Redirect;
}

export type Pipeline = ShellCommand[];

export interface ListItem {
  /** How this pipeline follows the one before: always, only after success, only after failure. */
  op: ';' | '&&' | '||';
  pipeline: Pipeline;
}

export class ShellSyntaxError extends Error {
  override readonly name = 'ShellSyntaxError';
}

/** A form of sh this shell does not run: refused with this message, never taken as a word. */
export class ShellUnsupported extends ShellSyntaxError {}

const unsupported = (form: string, hint: string) => new ShellUnsupported(`${form} is not supported (${hint})`);

type Token = { word: Word } | { op: ';' | '&&' | '||' | '|' | '>' | '>>' };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

function tokenize(line: string): Token[] {
  const out: Token[] = [];
  let word: Word | undefined;
  const add = (text: string, quoted: boolean) => {
    word ??= [];
    const last = word[word.length - 1];
    if (last && 'text' in last && last.quoted === quoted) last.text += text;
    else word.push({ text, quoted });
  };
  const flush = () => {
    if (word !== undefined) out.push({ word });
    word = undefined;
  };
  /** A `$` expansion at line[i] ('$' itself); returns the index of its last character. */
  const dollar = (i: number, quoted: boolean): number => {
    const rest = line.slice(i + 1);
    if (rest.startsWith('(')) throw unsupported('$(...)', 'command substitution; run the command on its own');
    if (rest.startsWith('?')) {
      (word ??= []).push({ var: '?', quoted });
      return i + 1;
    }
    if (rest.startsWith('{')) {
      const m = /^\{([A-Za-z_][A-Za-z0-9_]*|\?)\}/.exec(rest);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the message names the shell's ${NAME} syntax
      if (!m) throw unsupported(`\${${rest.slice(1).split('}')[0]}}`, 'only ${NAME} and $NAME expansions');
      (word ??= []).push({ var: m[1]!, quoted });
      return i + m[0].length;
    }
    const m = NAME.exec(rest);
    if (!m) {
      add('$', quoted);
      return i;
    }
    (word ??= []).push({ var: m[0], quoted });
    return i + m[0].length;
  };
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    const next = line[i + 1];
    if (ch === ' ' || ch === '\t' || ch === '\r') flush();
    else if (ch === ';' || ch === '\n') {
      flush();
      out.push({ op: ';' });
    } else if (ch === '&') {
      if (next === '&') {
        flush();
        out.push({ op: '&&' });
        i++;
      } else if (next === '>') throw unsupported('&>', 'only > and >> of standard output');
      else throw unsupported('&', 'no job control: commands run one after the other');
    } else if (ch === '|') {
      flush();
      if (next === '|') {
        out.push({ op: '||' });
        i++;
      } else if (next === '&') throw unsupported('|&', 'only the standard output goes through a pipe');
      else out.push({ op: '|' });
    } else if (ch === '>') {
      // `2>` and the like: digits right before `>` name a descriptor.
      if (word?.length === 1 && 'text' in word[0]! && !word[0].quoted && /^\d+$/.test(word[0].text)) {
        throw unsupported(`${word[0].text}>`, 'only > and >> of standard output; error messages always go to the terminal');
      }
      if (next === '&' || next === '|') throw unsupported(`>${next}`, 'only > and >> of standard output');
      flush();
      const append = next === '>';
      if (append) i++;
      out.push({ op: append ? '>>' : '>' });
    } else if (ch === '<') {
      throw next === '<' ? unsupported('<<', 'no here documents') : unsupported('<', 'no input redirection; use cat FILE | COMMAND');
    } else if (ch === '(' || ch === ')') {
      throw unsupported(ch, 'no subshells or groups');
    } else if (ch === '`') {
      throw unsupported('`...`', 'command substitution; run the command on its own');
    } else if (ch === '#' && word === undefined) {
      while (i + 1 < line.length && line[i + 1] !== '\n') i++;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ShellSyntaxError("unterminated quote (')");
      add(line.slice(i + 1, end), true);
      i = end;
    } else if (ch === '"') {
      add('', true);
      for (i++; i < line.length && line[i] !== '"'; i++) {
        const c = line[i]!;
        if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\' || line[i + 1] === '$' || line[i + 1] === '`')) add(line[++i]!, true);
        else if (c === '$') i = dollar(i, true);
        else if (c === '`') throw unsupported('`...`', 'command substitution; run the command on its own');
        else add(c, true);
      }
      if (i >= line.length) throw new ShellSyntaxError('unterminated quote (")');
    } else if (ch === '\\' && i + 1 < line.length) {
      add(line[++i]!, true);
    } else if (ch === '$') {
      i = dollar(i, false);
    } else add(ch, false);
  }
  flush();
  return out;
}

/** The literal text of a word made only of literal parts (for assignment names). */
function literalPrefix(w: Word): string {
  const p = w[0];
  return p && 'text' in p && !p.quoted ? p.text : '';
}

/** `NAME=value`: the name and the word after `=`. */
function assignment(w: Word): { name: string; value: Word } | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(literalPrefix(w));
  if (!m) return undefined;
  const first = w[0] as { text: string; quoted: boolean };
  const rest = first.text.slice(m[0].length);
  return { name: m[1]!, value: [...(rest ? [{ text: rest, quoted: false }] : []), ...w.slice(1)] };
}

/** Parses a line (or a `-c` script) into a list of pipelines; empty commands between `;` are dropped. */
export function parseLine(line: string): ListItem[] {
  const items: ListItem[] = [];
  let op: ListItem['op'] = ';';
  let pipeline: Pipeline = [];
  let cur: ShellCommand = { assigns: [], argv: [] };
  /** The `|`, `&&` or `||` that still needs a command after it. */
  let dangling: string | undefined;
  const empty = () => cur.argv.length === 0 && cur.assigns.length === 0;
  const endCommand = (by: string): void => {
    if (empty()) {
      if (cur.redirect) throw new ShellSyntaxError('a redirection needs a command');
      if (dangling !== undefined) throw new ShellSyntaxError(`${dangling} needs a command after it`);
      if (by !== ';') throw new ShellSyntaxError(`${by} needs a command before it`);
      return;
    }
    pipeline.push(cur);
    cur = { assigns: [], argv: [] };
  };
  let pendingRedirect: '>' | '>>' | undefined;
  for (const t of tokenize(line)) {
    if ('word' in t) {
      if (pendingRedirect) {
        cur.redirect = { path: t.word, append: pendingRedirect === '>>' };
        pendingRedirect = undefined;
        continue;
      }
      const a = cur.argv.length === 0 ? assignment(t.word) : undefined;
      if (a) cur.assigns.push(a);
      else cur.argv.push(t.word);
      dangling = undefined;
      continue;
    }
    if (pendingRedirect) throw new ShellSyntaxError(`${pendingRedirect} needs a path`);
    if (t.op === '>' || t.op === '>>') pendingRedirect = t.op;
    else if (t.op === '|') {
      endCommand('|');
      dangling = '|';
    } else {
      endCommand(t.op);
      if (pipeline.length > 0) items.push({ op, pipeline });
      pipeline = [];
      op = t.op;
      dangling = t.op === ';' ? undefined : t.op;
    }
  }
  if (pendingRedirect) throw new ShellSyntaxError(`${pendingRedirect} needs a path`);
  endCommand(';');
  if (pipeline.length > 0) items.push({ op, pipeline });
  return items;
}
