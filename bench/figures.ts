/**
 * The figures of `npm run bench`, in its order: the name `--only` takes, the key of the results
 * JSON, the `figure` of their targets, and a title. bench/run.ts writes an `--only` run's results
 * per figure (partial-<name>.*), bench/readme.ts renders them into the README.
 */
export const FIGURES = [
  { name: 'lookup', key: 'lookup', target: 'lookup', title: 'Lookup (figure 1)' },
  { name: 'copy', key: 'copyUp', target: 'copy-up', title: 'Copy-up (figure 2)' },
  { name: 'load', key: 'load', target: 'load', title: 'Load (figure 3)' },
  { name: 'cli', key: 'cli', target: 'cli', title: 'Command line (figure 4)' },
  { name: 'cache', key: 'cache', target: 'cache', title: 'Open cache (figure 5)' },
  { name: 'page', key: 'page', target: 'page', title: 'Page (figure 6)' },
  { name: 'registry', key: 'registry', target: 'registry', title: 'Registry (figure 7)' },
  { name: 'concurrent', key: 'concurrent', target: 'concurrent', title: 'Concurrent open (figure 8)' },
  { name: 'scale', key: 'scale', target: 'scale', title: 'Scale (figure 9)' },
] as const;
export type FigureInfo = (typeof FIGURES)[number];
export type FigureName = FigureInfo['name'];

/** A command-line argument of the benchmark it cannot take; names the argument. */
export class BenchArgumentError extends Error {
  override readonly name = 'BenchArgumentError';
  constructor(
    readonly argument: string,
    readonly problem: string,
  ) {
    super(`${argument}: ${problem}`);
  }
}

/** `--only a,b`: the figures named, in the benchmark's order; an unknown or empty name is refused. */
export function parseOnly(list: string): FigureName[] {
  const names: readonly string[] = FIGURES.map((f) => f.name);
  const asked = list.split(',');
  for (const a of asked) {
    if (!names.includes(a)) throw new BenchArgumentError(`--only ${list}`, `${a === '' ? 'an empty name' : `"${a}"`} is not a figure (figures: ${names.join(', ')})`);
  }
  return FIGURES.map((f) => f.name).filter((n) => asked.includes(n));
}

/** The figure whose targets carry `target` as their `figure`. */
export function figureOfTarget(target: string): FigureInfo | undefined {
  return FIGURES.find((f) => f.target === target);
}
