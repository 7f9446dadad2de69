/**
 * In a terminal: tab completion and the history kept across sessions.
 * - Completion takes the word under the cursor (after the last blank): the first word of a
 *   command (at the start, or after `;`, `|`, `&&`, `||`) completes to command names; any other
 *   word to paths of the container (relative ones from the working directory), a directory with a
 *   trailing `/`; names starting with `.` only when the word's last part does.
 * - The history is one file in the state directory (`shell-history`, one line a command, oldest
 *   first), shared by every container's shell; the last HISTORY lines are read at start, each new
 *   line is appended as it is run.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { builtins } from './builtins.js';
import type { ShellContext } from './context.js';

const COMMANDS = [...Object.keys(builtins), 'exit'].sort();
const HISTORY = 1000;

export function completer(ctx: ShellContext): (line: string) => [string[], string] {
  return (line) => {
    const word = /[^\s;|&]*$/.exec(line)![0];
    const before = line.slice(0, line.length - word.length).trimEnd();
    if (before === '' || /(;|\||&&)$/.test(before)) {
      const hits = COMMANDS.filter((c) => c.startsWith(word));
      return [hits.map((c) => `${c} `), word];
    }
    const slash = word.lastIndexOf('/');
    const dirPart = slash < 0 ? '' : word.slice(0, slash + 1);
    const base = word.slice(slash + 1);
    const fs = ctx.container.fs;
    const dir = posix.resolve(ctx.cwd, dirPart === '' ? '.' : dirPart);
    let names: string[];
    try {
      names = (fs.readdirSync(dir) as string[]).map(String);
    } catch {
      return [[], word];
    }
    const hits = names
      .filter((n) => n.startsWith(base) && (base.startsWith('.') || !n.startsWith('.')))
      .sort()
      .map((n) => {
        const isDir = fs.statSync(posix.join(dir, n), { throwIfNoEntry: false })?.isDirectory();
        return `${dirPart}${n}${isDir ? '/' : ''}`;
      });
    return [hits, word];
  };
}

/** The history file of the state directory `home`: its last lines, newest first, and how to add one. */
export function history(home: string): { lines: string[]; add(line: string): void } {
  const file = join(home, 'shell-history');
  let lines: string[] = [];
  try {
    lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .slice(-HISTORY)
      .reverse();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return { lines, add: (line) => appendFileSync(file, line.replace(/\n/g, ' ') + '\n', { mode: 0o600 }) };
}
