/** How the page writes sizes, modes, digests and ratios. */

/** 1536 → "1.5 KiB"; bytes below 1 KiB as "512 B". */
export function bytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (Math.abs(n) < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export const pct = (r: number): string => `${(r * 100).toFixed(r === 1 || r === 0 ? 0 : 1)}%`;

export const short = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);

export const count = (n: number): string => n.toLocaleString('en-US');

const TYPE_NAMES: Record<string, string> = { f: 'file', d: 'directory', l: 'symlink', c: 'char device', b: 'block device', p: 'fifo', s: 'socket' };
export const typeName = (t: string): string => TYPE_NAMES[t] ?? t;

/** `ls -l` letters: "drwxr-xr-x", "-rwsr-xr-x". */
export function modeString(type: string, mode: string): string {
  const m = parseInt(mode, 8);
  const bit = (b: number, c: string) => (m & b ? c : '-');
  const x = (b: number, special: number, on: string, off: string) => (m & special ? (m & b ? on : off) : bit(b, 'x'));
  return (
    (type === 'f' ? '-' : type)
    + bit(0o400, 'r')
    + bit(0o200, 'w')
    + x(0o100, 0o4000, 's', 'S')
    + bit(0o40, 'r')
    + bit(0o20, 'w')
    + x(0o10, 0o2000, 's', 'S')
    + bit(0o4, 'r')
    + bit(0o2, 'w')
    + x(0o1, 0o1000, 't', 'T')
  );
}

/** "1.5K", "20M": a size typed by a user, in bytes; NaN when it is not one. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m) return NaN;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * mult);
}

export const CHANGE_NAMES = { A: 'added', M: 'modified', D: 'deleted' } as const;
