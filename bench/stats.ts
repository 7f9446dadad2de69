/** Small statistics for the benchmark: repeated timings reported as median with min–max. */
export interface Figure {
  median: number;
  min: number;
  max: number;
}

export function figure(samples: number[]): Figure {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}

/** Runs `fn` `repeats` times and returns the time of each run in milliseconds. */
export function timeRuns(repeats: number, fn: () => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

export function fmtTime(ms: number): string {
  if (ms < 0.001) return `${(ms * 1e6).toFixed(0)} ns`;
  if (ms < 1) return `${(ms * 1e3).toFixed(2)} µs`;
  if (ms < 1000) return `${ms.toFixed(2)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function fmtFigure(f: Figure): string {
  return `${fmtTime(f.median)} (${fmtTime(f.min)}–${fmtTime(f.max)})`;
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}
