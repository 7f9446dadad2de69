/** What a benchmark target's verdict must be, judged here from its value, op and limit (not by bench/report.ts). */
import type { Target } from '../../bench/report.js';

export function shouldPass(x: Target): boolean {
  const holds = x.op === 'le' ? x.value <= x.limit : x.op === 'ge' ? x.value >= x.limit : x.value < x.limit;
  return Number.isFinite(x.value) && holds;
}
