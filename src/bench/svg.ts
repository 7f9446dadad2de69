/** Hand-written SVG charts for the benchmark: a line chart (log axes, min–max whiskers) and a bar chart. */

export interface Point {
  x: number;
  y: number;
  min?: number;
  max?: number;
}
/** `dash`: an SVG stroke-dasharray for the line (e.g. '6 3'); solid when absent. */
export interface Series {
  name: string;
  points: Point[];
  dash?: string;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#393b79'];
const W = 720;
const H = 420;
const M = { left: 96, right: 210, top: 40, bottom: 56 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function scale(lo: number, hi: number, a: number, b: number, log: boolean): (v: number) => number {
  const f = log ? Math.log10 : (v: number) => v;
  const l = f(lo);
  const h = f(hi) === l ? l + 1 : f(hi);
  return (v) => a + ((f(v) - l) / (h - l)) * (b - a);
}

function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
    return out;
  }
  const step = 10 ** Math.floor(Math.log10((hi - lo) / 4 || 1));
  const n = Math.ceil((hi - lo) / step) > 10 ? step * 2 : step;
  const out: number[] = [];
  for (let v = Math.ceil(lo / n) * n; v <= hi + 1e-9; v += n) out.push(v);
  return out;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  xFormat?: (v: number) => string;
  yFormat?: (v: number) => string;
  series: Series[];
}

export function lineChart(c: LineChart): string {
  const pts = c.series.flatMap((s) => s.points).filter((p) => !c.logY || p.y > 0);
  if (!pts.length) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="60"><text x="10" y="30">${esc(c.title)}: no data</text></svg>\n`;
  const xs = pts.map((p) => p.x);
  const ys = pts.flatMap((p) => [p.y, p.min ?? p.y, p.max ?? p.y]).filter((v) => !c.logY || v > 0);
  let [ylo, yhi] = [Math.min(...ys), Math.max(...ys)];
  if (c.logY) {
    ylo = 10 ** Math.floor(Math.log10(ylo));
    yhi = 10 ** Math.ceil(Math.log10(yhi));
  } else {
    ylo = Math.min(0, ylo);
    yhi *= 1.05;
  }
  const [xlo, xhi] = [Math.min(...xs), Math.max(...xs)];
  const sx = scale(xlo, xhi, M.left, W - M.right, !!c.logX);
  const sy = scale(ylo, yhi, H - M.bottom, M.top, !!c.logY);
  const xf = c.xFormat ?? String;
  const yf = c.yFormat ?? String;
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  o.push(`<text x="${W / 2 - M.right / 2 + M.left / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(c.title)}</text>`);
  for (const t of ticks(ylo, yhi, !!c.logY)) {
    if (t < ylo || t > yhi) continue;
    const y = sy(t).toFixed(1);
    o.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/><text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${esc(yf(t))}</text>`);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    const px = sx(x).toFixed(1);
    o.push(`<line x1="${px}" x2="${px}" y1="${M.top}" y2="${H - M.bottom}" stroke="#f0f0f0"/><text x="${px}" y="${H - M.bottom + 16}" text-anchor="middle">${esc(xf(x))}</text>`);
  }
  o.push(`<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#444"/>`);
  o.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 14}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  o.push(`<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`);
  c.series.forEach((s, i) => {
    const col = COLORS[i % COLORS.length];
    const ps = s.points.filter((p) => !c.logY || p.y > 0).sort((a, b) => a.x - b.x);
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    if (ps.length) o.push(`<polyline fill="none" stroke="${col}" stroke-width="2"${dash} points="${ps.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of ps) {
      const px = sx(p.x).toFixed(1);
      if (p.min !== undefined && p.max !== undefined && (!c.logY || p.min > 0))
        o.push(`<line x1="${px}" x2="${px}" y1="${sy(p.min).toFixed(1)}" y2="${sy(p.max).toFixed(1)}" stroke="${col}" stroke-opacity="0.6"/>`);
      o.push(`<circle cx="${px}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${col}"><title>${esc(`${s.name}: ${xf(p.x)} → ${yf(p.y)}`)}</title></circle>`);
    }
    const ly = M.top + 10 + i * 18;
    o.push(
      `<line x1="${W - M.right + 12}" x2="${W - M.right + 32}" y1="${ly}" y2="${ly}" stroke="${col}" stroke-width="2"${dash}/><text x="${W - M.right + 38}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`,
    );
  });
  o.push('</svg>');
  return o.join('\n') + '\n';
}

export interface Bar {
  label: string;
  value: number;
  min?: number;
  max?: number;
  group?: string;
}

/** Horizontal bars (labels can be long), with min–max whiskers; `log` for a log10 axis. */
export function barChart(title: string, unit: string, bars: Bar[], log = false): string {
  const rowH = 26;
  const left = 230;
  const right = 90;
  const h = 60 + bars.length * rowH + 30;
  const hi = Math.max(...bars.map((b) => b.max ?? b.value), 1e-9) * 1.05;
  const lo = log ? 10 ** Math.floor(Math.log10(Math.min(...bars.map((b) => b.min ?? b.value).filter((v) => v > 0), hi))) : 0;
  const sx = log
    ? (v: number) => left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (W - left - right)
    : (v: number) => left + (v / hi) * (W - left - right);
  const groups = [...new Set(bars.map((b) => b.group ?? ''))];
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${h}" fill="white"/>`);
  o.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);
  bars.forEach((b, i) => {
    const y = 50 + i * rowH;
    const col = COLORS[groups.indexOf(b.group ?? '') % COLORS.length];
    o.push(`<text x="${left - 8}" y="${y + rowH / 2 - 2}" text-anchor="end" dominant-baseline="middle">${esc(b.label)}</text>`);
    o.push(`<rect x="${left}" y="${y + 3}" width="${Math.max(1, sx(b.value) - left).toFixed(1)}" height="${rowH - 10}" fill="${col}"/>`);
    if (b.min !== undefined && b.max !== undefined) o.push(`<line x1="${sx(b.min).toFixed(1)}" x2="${sx(b.max).toFixed(1)}" y1="${y + rowH / 2 - 2}" y2="${y + rowH / 2 - 2}" stroke="#222"/>`);
    o.push(`<text x="${(sx(b.max ?? b.value) + 6).toFixed(1)}" y="${y + rowH / 2 - 2}" dominant-baseline="middle">${esc(`${b.value.toFixed(b.value >= 100 ? 0 : 1)} ${unit}`)}</text>`);
  });
  o.push(`<line x1="${left}" x2="${left}" y1="46" y2="${50 + bars.length * rowH}" stroke="#444"/>`);
  if (log) o.push(`<text x="${left}" y="${h - 10}" font-size="11" fill="#555">log scale from ${lo} ${esc(unit)}</text>`);
  o.push('</svg>');
  return o.join('\n') + '\n';
}
