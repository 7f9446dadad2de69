/**
 * The one random op generator of the test suites (issue 14): seeded op sequences in the language
 * of ops.ts, aimed at any namespace — the names ops draw from (the root '/' included), what exists
 * there at the start, and the values (modes, owners, times, symlink targets, write positions,
 * truncate lengths, file data). It produces plain path calls, held descriptors whose name is then
 * unlinked, renamed or reused with fchmod/fchown/futimes/ftruncate/fsync on them (OVL-23), O_PATH
 * opens (OVL-24), symlink targets with a trailing slash or non-ASCII bytes (OVL-25), odd spellings
 * ('a/', 'a/.', 'a/../a') and calls on the root (OVL-26, OVL-27).
 *
 * Users: the kernel differential suite (kernel/gen.ts: random layers, then these ops), the cores
 * suite (cores-random), the fs-API suite (fs-random) and the invariants over the sample image.
 * Results never depend on the generator's idea of what exists: it only aims ops at useful names.
 */
import type { FlagName, Op } from './ops.js';

/** Big deterministic content (for chunked copy-up cases): `n` bytes of a repeating pattern. */
export function bigContent(n: number, seed = 0): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[(i * 7 + seed + (i >> 10)) % alphabet.length];
  return s;
}

/** mulberry32: tiny, fast, good enough for test generation. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  /** Picks by weight from [weight, value] pairs. */
  weighted<T>(xs: ReadonlyArray<readonly [number, T]>): T {
    const total = xs.reduce((a, [w]) => a + w, 0);
    let r = this.next() * total;
    for (const [w, v] of xs) {
      if ((r -= w) < 0) return v;
    }
    return xs[xs.length - 1][1];
  }
}

function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Stable per-case seed from the run seed and the case index (no (seed, index) pairs collide). */
export function caseSeed(seed: number, index: number): number {
  return mix32((mix32(seed ^ 0x9e3779b9) + Math.imul(index + 1, 0x27d4eb2d)) >>> 0);
}

export type Kind = 'dir' | 'file' | 'symlink' | 'fifo';

/** Where ops are aimed, and the values they use. Only `names` is required. */
export interface Namespace {
  /** Absolute paths (not '/') ops draw names from; free names are those of a known directory. */
  names: readonly string[];
  /** What exists at the start: path → type. */
  known?: Iterable<readonly [string, Kind]>;
  /** Names that existed once (whited out, hidden): candidates for "gone" names. */
  mentioned?: readonly string[];
  /** Symlink targets. Default: relative ones, some with a trailing slash or non-ASCII bytes. */
  targets?: readonly string[];
  modes?: readonly number[];
  dirModes?: readonly number[];
  ids?: readonly number[];
  times?: readonly number[];
  /** Write positions besides "the current offset" (default 0, 2 and some past 4 KiB). */
  positions?: readonly number[];
  /** truncate/ftruncate lengths. */
  lengths?: readonly number[];
  /** File data. */
  data?: (r: Rng) => string;
}

export const DEFAULT_TARGETS = [
  'x',
  'a',
  'b/x',
  'a/x',
  '../a',
  '../b/y',
  '..',
  '.',
  'missing',
  'x/p',
  '../../a/x',
  'y',
  'd',
  'c/../a',
  // OVL-25: a trailing slash wants a directory (ENOTDIR on a file); targets are bytes (é中 is 5).
  'a/',
  'x/',
  'b/x/',
  'missing/',
  'é中',
  'a/é',
];
export const MODES = [0o644, 0o644, 0o600, 0o755, 0o4755, 0o2755, 0o1777, 0o000, 0o444];
export const DIR_MODES = [0o755, 0o755, 0o700, 0o1777, 0o2775, 0o555];
export const IDS = [0, 0, 0, 1000, 65534];
export const TIMES = [1_000_000_000, 1_000_000_001, 1_100_000_000, 900_000_000];

const defaultData = (r: Rng): string =>
  r.weighted([
    [8, `w${r.int(100)}`],
    [1, ''],
    [1, bigContent(5000 + r.int(5000), r.int(9))],
  ] as const);

type Values = Required<Omit<Namespace, 'known' | 'mentioned' | 'names' | 'positions'>> & { positions?: readonly number[] };

function values(ns: Namespace): Values {
  return {
    targets: ns.targets ?? DEFAULT_TARGETS,
    modes: ns.modes ?? MODES,
    dirModes: ns.dirModes ?? DIR_MODES,
    ids: ns.ids ?? IDS,
    times: ns.times ?? TIMES,
    lengths: ns.lengths ?? [0, 1, 2, 5000],
    data: ns.data ?? defaultData,
    ...(ns.positions ? { positions: ns.positions } : {}),
  };
}

export const OPEN_FLAGS: FlagName[][] = [
  ['O_RDONLY'],
  ['O_RDONLY'],
  ['O_WRONLY'],
  ['O_RDWR'],
  ['O_RDONLY', 'O_TRUNC'],
  ['O_WRONLY', 'O_CREAT', 'O_TRUNC'],
  ['O_WRONLY', 'O_APPEND'],
  ['O_RDWR', 'O_CREAT', 'O_EXCL'],
  ['O_RDONLY', 'O_DIRECTORY'],
  ['O_RDONLY', 'O_NOFOLLOW'],
  ['O_RDWR', 'O_CREAT'],
  // OVL-24: O_PATH keeps only O_NOFOLLOW and O_DIRECTORY (the rest is ignored).
  ['O_PATH'],
  ['O_PATH', 'O_NOFOLLOW'],
  ['O_PATH', 'O_NOFOLLOW', 'O_DIRECTORY'],
  ['O_PATH', 'O_WRONLY', 'O_CREAT', 'O_TRUNC'],
];

interface PathGen {
  /** Any path; `want` biases toward names currently believed to be of that type, 'new' toward free names. */
  path: (want?: Kind | 'new') => string;
  remember: (p: string, kind: Kind) => void;
}

const parentOf = (p: string): string => {
  const k = p.lastIndexOf('/');
  return k <= 0 ? '/' : p.slice(0, k);
};

function pathFactory(r: Rng, ns: Namespace, plain: boolean): PathGen {
  const typed = new Map<string, Kind>(ns.known ?? []);
  const mentioned = [...new Set(ns.mentioned ?? [])];
  const byDepth: string[][] = [];
  for (const n of ns.names) (byDepth[n.split('/').length - 2] ??= []).push(n);
  const depths = byDepth.map((names, d) => [[5, 4, 1][d] ?? 1, names] as const).filter(([, names]) => names?.length);
  const remember = (p: string, kind: Kind): void => {
    const q = p.replace(/\/+$/, '');
    if (q && q !== '/') typed.set(q, kind);
  };
  const fresh = (): string => r.pick(r.weighted(depths));
  const freeName = (): string | undefined => {
    const dirs = ['/', ...[...typed].filter(([, k]) => k === 'dir').map(([p]) => p)];
    const d = r.pick(dirs);
    const free = ns.names.filter((p) => parentOf(p) === d && !typed.has(p));
    return free.length ? r.pick(free) : undefined;
  };
  const path = (want?: Kind | 'new'): string => {
    const ofKind = want && want !== 'new' ? [...typed].filter(([, k]) => k === want).map(([p]) => p) : [];
    const all = [...typed.keys()];
    let base: string;
    const nw = want === 'new' && r.chance(0.75) ? freeName() : undefined;
    if (nw) base = nw;
    else if (ofKind.length && r.chance(0.6)) base = r.pick(ofKind);
    else if (all.length && r.chance(0.55)) base = r.pick(all);
    else if (mentioned.length && r.chance(0.3)) base = r.pick(mentioned);
    else base = fresh();
    if (plain) return base;
    return r.weighted([
      [92, base],
      [2, `${base}/`],
      [1, `${base}/.`],
      [2, base.replace(/^\/([^/]+)/, '/$1/../$1')],
      [2, '/'],
      [1, `${base}/x`],
    ] as const);
  };
  return { path, remember };
}

const WRITABLE = (flags: FlagName[]): boolean => flags.includes('O_WRONLY') || flags.includes('O_RDWR');

export interface GenOptions {
  /** Ops per sequence are minOps..maxOps (default 4..17). */
  minOps?: number;
  maxOps?: number;
  /** Only plain paths: no 'a/', 'a/.', 'a/../a', '/' spellings (for triage past known differences). */
  plainPaths?: boolean;
}

/** A random op sequence aimed at `ns`, drawn from `r`. */
export function genOps(r: Rng, ns: Namespace, o: GenOptions = {}): Op[] {
  const M = values(ns);
  const minOps = o.minOps ?? 4;
  const { path, remember } = pathFactory(r, ns, !!o.plainPaths);
  const ops: Op[] = [];
  const open = new Map<number, boolean>(); // slot -> writable
  let nextSlot = 1;
  const nOps = minOps + r.int((o.maxOps ?? 17) - minOps + 1);
  const data = (): string => M.data(r);
  const pos = (): number | null =>
    M.positions
      ? r.weighted<number | null>([
          [6, null],
          [4, r.pick(M.positions)],
        ])
      : r.weighted([
          [6, null],
          [2, 0],
          [1, 2],
          [1, 4096 + r.int(8192)],
        ] as const);
  /** fchmod, fchown, futimes, ftruncate or fsync on a held descriptor. */
  const fdMeta = (fd: number): Op =>
    r.weighted<Op>([
      [3, { op: 'fchmod', fd, mode: r.pick(M.modes) }],
      [2, { op: 'fchown', fd, uid: r.pick(M.ids), gid: r.pick(M.ids) }],
      [2, { op: 'futimes', fd, atime: r.pick(M.times), mtime: r.pick(M.times) }],
      [1, { op: 'ftruncate', fd, length: r.pick([0, 2]) }],
      [1, { op: 'fsync', fd }],
    ]);
  while (ops.length < nOps) {
    const kind = r.weighted([
      [4, 'stat'],
      [3, 'lstat'],
      [5, 'readdir'],
      [4, 'readFile'],
      [2, 'readlink'],
      [2, 'realpath'],
      [1, 'exists'],
      [1, 'access'],
      [8, 'writeFile'],
      [3, 'appendFile'],
      [7, 'open'],
      [3, 'truncate'],
      [8, 'unlink'],
      [5, 'rmdir'],
      [3, 'rm'],
      [7, 'mkdir'],
      [9, 'rename'],
      [3, 'symlink'],
      [4, 'link'],
      [3, 'chmod'],
      [2, 'chown'],
      [2, 'utimes'],
      [2, 'copyFile'],
      [1, 'sameFile'],
      [3, 'heldfd'],
      [3, 'stalefd'],
      [2, 'root'],
      ...(open.size ? ([[6, 'fdop']] as const) : []),
    ] as const);
    switch (kind) {
      case 'stat':
      case 'lstat':
      case 'realpath':
      case 'exists':
        ops.push({ op: kind, path: path() });
        break;
      case 'readdir':
        ops.push({ op: kind, path: path('dir') });
        break;
      case 'readFile':
        ops.push({ op: kind, path: path('file') });
        break;
      case 'readlink':
        ops.push({ op: kind, path: path('symlink') });
        break;
      case 'access':
        ops.push({ op: 'access', path: path(), mode: r.pick([0, 1, 2, 4, 6]) });
        break;
      case 'writeFile': {
        const p = path(r.chance(0.3) ? 'new' : 'file');
        const flag = r.weighted([
          [6, undefined],
          [1, 'wx'],
          [1, 'a'],
          [1, 'r+'],
        ] as const);
        ops.push({ op: 'writeFile', path: p, data: data(), ...(flag ? { flag } : {}), ...(r.chance(0.2) ? { mode: r.pick(M.modes) } : {}) });
        remember(p, 'file');
        break;
      }
      case 'appendFile':
        ops.push({ op: 'appendFile', path: path('file'), data: data() });
        break;
      case 'open': {
        const slot = nextSlot++;
        const flags = r.pick(OPEN_FLAGS);
        const p = path(flags.includes('O_PATH') && r.chance(0.5) ? 'symlink' : 'file');
        ops.push({ op: 'open', fd: slot, path: p, flags, ...(r.chance(0.2) ? { mode: r.pick(M.modes) } : {}) });
        open.set(slot, WRITABLE(flags));
        if (flags.includes('O_CREAT') && !flags.includes('O_PATH')) remember(p, 'file');
        break;
      }
      case 'stalefd': {
        // OVL-23: a descriptor whose name is then unlinked, renamed or reused still acts on its
        // object: metadata calls through it, then what each name shows.
        const p = path('file');
        const q = path('new');
        const slot = nextSlot++;
        const flags = r.weighted<FlagName[]>([
          [3, ['O_RDONLY']],
          [2, ['O_RDWR']],
          [1, ['O_PATH']],
        ]);
        ops.push({ op: 'open', fd: slot, path: p, flags });
        const moves = r.weighted<Op[]>([
          [3, [{ op: 'unlink', path: p }]],
          [
            3,
            [
              { op: 'unlink', path: p },
              { op: 'writeFile', path: p, data: data(), mode: r.pick(M.modes) },
            ],
          ],
          [2, [{ op: 'rename', from: p, to: q }]],
          [
            2,
            [
              { op: 'rename', from: p, to: q },
              { op: 'writeFile', path: p, data: data() },
            ],
          ],
          [1, [{ op: 'writeFile', path: p, data: data() }]],
        ]);
        ops.push(...moves);
        for (let k = 1 + r.int(3); k > 0; k--) ops.push(fdMeta(slot));
        ops.push({ op: 'fstat', fd: slot }, { op: 'lstat', path: p }, { op: 'lstat', path: q });
        open.set(slot, !flags.includes('O_RDONLY') && !flags.includes('O_PATH'));
        remember(q, 'file');
        break;
      }
      case 'root': {
        // Operations on the root itself (OVL-26, OVL-27).
        ops.push(
          r.weighted<Op>([
            [2, { op: 'stat', path: '/' }],
            [1, { op: 'readdir', path: '/' }],
            [2, { op: 'chmod', path: '/', mode: r.pick(M.dirModes) }],
            [1, { op: 'chown', path: '/', uid: r.pick(M.ids), gid: r.pick(M.ids) }],
            [2, { op: 'utimes', path: '/', atime: r.pick(M.times), mtime: r.pick(M.times) }],
            [1, { op: 'rename', from: path(), to: '/' }],
            [1, { op: 'rename', from: '/', to: path('new') }],
            [1, { op: 'rmdir', path: '/' }],
            [1, { op: 'unlink', path: '/' }],
            [1, { op: 'mkdir', path: '/' }],
            [1, { op: 'writeFile', path: '/', data: 'x' }],
            [1, { op: 'link', from: path('file'), to: '/' }],
          ]),
        );
        if (r.chance(0.3)) {
          const slot = nextSlot++;
          ops.push({ op: 'open', fd: slot, path: '/', flags: r.pick<FlagName[]>([['O_RDONLY'], ['O_RDONLY', 'O_DIRECTORY'], ['O_PATH']]) });
          ops.push(fdMeta(slot), { op: 'fstat', fd: slot }, { op: 'stat', path: '/' });
          open.set(slot, false);
        }
        break;
      }
      case 'heldfd': {
        // OVL-8: a read-only descriptor held across a later copy-up of the same file.
        const p = path('file');
        const slot = nextSlot++;
        ops.push({ op: 'open', fd: slot, path: p, flags: ['O_RDONLY'] });
        ops.push(
          r.weighted<Op>([
            [3, { op: 'writeFile', path: p, data: data() }],
            [1, { op: 'truncate', path: p, length: r.int(3) }],
            [1, { op: 'appendFile', path: p, data: data() }],
            [1, { op: 'chmod', path: p, mode: 0o600 }],
          ]),
        );
        ops.push({ op: 'read', fd: slot, length: 100_000, position: 0 });
        ops.push({ op: 'fstat', fd: slot });
        open.set(slot, false);
        break;
      }
      case 'fdop': {
        const writable = [...open].filter(([, w]) => w).map(([s]) => s);
        const fop = r.weighted([
          [writable.length ? 5 : 1, 'write'],
          [3, 'read'],
          [2, 'ftruncate'],
          [2, 'fstat'],
          [2, 'close'],
          [2, 'meta'],
        ] as const);
        const slot = fop === 'write' || fop === 'ftruncate' ? r.pick(writable.length && r.chance(0.85) ? writable : [...open.keys()]) : r.pick([...open.keys()]);
        if (fop === 'write') ops.push({ op: 'write', fd: slot, data: data(), position: pos() });
        else if (fop === 'read') ops.push({ op: 'read', fd: slot, length: r.pick([1, 10, 100_000]), position: pos() });
        else if (fop === 'ftruncate') ops.push({ op: 'ftruncate', fd: slot, length: r.pick(M.lengths) });
        else if (fop === 'fstat') ops.push({ op: 'fstat', fd: slot });
        else if (fop === 'meta') ops.push(fdMeta(slot));
        else {
          ops.push({ op: 'close', fd: slot });
          open.delete(slot);
        }
        break;
      }
      case 'truncate':
        ops.push({ op: 'truncate', path: path('file'), length: r.pick(M.lengths) });
        break;
      case 'unlink':
        ops.push({ op: kind, path: path(r.chance(0.8) ? 'file' : 'symlink') });
        break;
      case 'rmdir':
        ops.push({ op: kind, path: path('dir') });
        break;
      case 'rm':
        ops.push({ op: 'rm', path: path(), recursive: r.chance(0.8), force: r.chance(0.5) });
        break;
      case 'mkdir': {
        const p = path(r.chance(0.6) ? 'new' : undefined);
        ops.push({ op: 'mkdir', path: p, ...(r.chance(0.25) ? { recursive: true } : {}), ...(r.chance(0.2) ? { mode: r.pick(M.dirModes) } : {}) });
        remember(p, 'dir');
        break;
      }
      case 'rename': {
        const kindFrom = r.pick<Kind>(['file', 'dir', 'dir', 'symlink']);
        const from = path(kindFrom);
        const to = path(r.chance(0.5) ? 'new' : kindFrom);
        ops.push({ op: 'rename', from, to });
        remember(to, kindFrom);
        break;
      }
      case 'symlink': {
        const p = path('new');
        ops.push({ op: 'symlink', target: r.pick(M.targets), path: p });
        remember(p, 'symlink');
        break;
      }
      case 'link': {
        const from = path('file');
        const to = path('new');
        ops.push({ op: 'link', from, to });
        remember(to, 'file');
        break;
      }
      case 'chmod':
        ops.push({ op: 'chmod', path: path(), mode: r.pick([...M.modes, ...M.dirModes]) });
        break;
      case 'chown':
        ops.push({ op: 'chown', path: path(), uid: r.pick(M.ids), gid: r.pick(M.ids), ...(r.chance(0.3) ? { nofollow: true } : {}) });
        break;
      case 'utimes':
        ops.push({ op: 'utimes', path: path(), atime: r.pick(M.times), mtime: r.pick(M.times), ...(r.chance(0.3) ? { nofollow: true } : {}) });
        break;
      case 'copyFile': {
        const from = path('file');
        const to = path(r.chance(0.6) ? 'new' : 'file');
        ops.push({ op: 'copyFile', from, to, ...(r.chance(0.3) ? { excl: true } : {}) });
        remember(to, 'file');
        break;
      }
      case 'sameFile':
        ops.push({ op: 'sameFile', a: path(), b: path() });
        break;
    }
  }
  return ops;
}
