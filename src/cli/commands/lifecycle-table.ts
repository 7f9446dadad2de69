/**
 * Listings for humans: columns padded to their widest cell, headers in bold on a TTY. `--json`
 * listings print the records instead (printJson).
 */
import { errorReport, paint, type Out } from '../output.js';
import { io, setExitCode } from '../io.js';

export function printTable(out: Out, headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  io().stdout.write(paint(out, 'bold', line(headers)) + '\n');
  for (const r of rows) io().stdout.write(line(r) + '\n');
}

/** "3 minutes ago", as Docker's CREATED column says it. */
export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const [n, unit] = s < 60 ? [s, 'second'] : s < 3600 ? [Math.floor(s / 60), 'minute'] : s < 86400 ? [Math.floor(s / 3600), 'hour'] : [Math.floor(s / 86400), 'day'];
  return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
}

/**
 * Runs `each` on every argument; a failure prints one line and sets the exit code as errorReport
 * says (the highest of them: 2 when a volume was in use, as podman's `volume rm`).
 */
export async function forEachArg(args: string[], each: (arg: string) => Promise<void>): Promise<void> {
  for (const a of args) {
    try {
      await each(a);
    } catch (e) {
      const { text, code } = errorReport(e);
      io().stderr.write(`layerfs: ${text}\n`);
      setExitCode(Math.max(io().exitCode ?? 0, code));
    }
  }
}
