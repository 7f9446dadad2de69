/**
 * The shell's command line: commands separated by `;` or new lines, words split on blanks,
 * quoted as sh does, with output redirection.
 * - 'single quotes' keep everything literally; "double quotes" keep everything but `\"` and `\\`;
 *   outside quotes a backslash keeps the next character literally;
 * - `>` PATH replaces a file with the command's output, `>>` PATH appends to it (with or without
 *   blanks around the operator); the last redirection of a command wins;
 * - `#` at the start of a word starts a comment up to the end of the line;
 * - an unterminated quote, or `>` without a path, is a syntax error (the whole line is refused).
 */
export interface Redirect {
  path: string;
  append: boolean;
}

export interface ShellCommand {
  argv: string[];
  redirect?: Redirect;
}

export class ShellSyntaxError extends Error {
  override readonly name = 'ShellSyntaxError';
}

type Token = { word: string } | { op: '>' | '>>' | ';' };

function tokenize(line: string): Token[] {
  const out: Token[] = [];
  let word: string | undefined;
  const flush = () => {
    if (word !== undefined) out.push({ word });
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\r') flush();
    else if (ch === ';' || ch === '\n') {
      flush();
      out.push({ op: ';' });
    } else if (ch === '>') {
      flush();
      const append = line[i + 1] === '>';
      if (append) i++;
      out.push({ op: append ? '>>' : '>' });
    } else if (ch === '#' && word === undefined) {
      while (i + 1 < line.length && line[i + 1] !== '\n') i++;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ShellSyntaxError('unterminated quote (\')');
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      let text = '';
      for (i++; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) i++;
        text += line[i];
      }
      if (i >= line.length) throw new ShellSyntaxError('unterminated quote (")');
      word = (word ?? '') + text;
    } else if (ch === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else word = (word ?? '') + ch;
  }
  flush();
  return out;
}

/** Parses a line (or a script) into commands; empty commands are dropped. */
export function parseLine(line: string): ShellCommand[] {
  const cmds: ShellCommand[] = [];
  let cur: ShellCommand = { argv: [] };
  const tokens = tokenize(line);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if ('word' in t) cur.argv.push(t.word);
    else if (t.op === ';') {
      if (cur.argv.length > 0) cmds.push(cur);
      else if (cur.redirect) throw new ShellSyntaxError('a redirection needs a command');
      cur = { argv: [] };
    } else {
      const next = tokens[++i];
      if (!next || !('word' in next)) throw new ShellSyntaxError(`${t.op} needs a path`);
      cur.redirect = { path: next.word, append: t.op === '>>' };
    }
  }
  if (cur.argv.length > 0) cmds.push(cur);
  else if (cur.redirect) throw new ShellSyntaxError('a redirection needs a command');
  return cmds;
}
