/**
 * Seeded random differential cases: a random lower-layer stack over a small namespace and a random op
 * sequence that mixes names present in the lower layers (files, dirs, merged dirs, symlinks, hard
 * links, whiteouts, opaque dirs, fifos) with new names, odd spellings ('a/', 'a/../b', '/') and paths
 * through symlinks. Case `i` of seed `s` is a pure function of (s, i), so one case can be replayed
 * alone (`LAYERFS_KERNEL_SEED`, `LAYERFS_KERNEL_CASE`).
 */
import type { KernelOptions } from './mount.js';
import type { FlagName, Op } from './ops.js';
import { bigContent, type LayerSpec, type Spec, type SpecEntry } from './spec.js';
import type { Case } from './harness.js';

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

const L1 = ['a', 'b', 'c', 'd', 'e'];
const L2 = ['x', 'y', 'z'];
const L3 = ['p', 'q'];
/** Names that rarely exist in a lower layer: new objects. */
const FRESH1 = ['n', 'm', 'é'];
const FRESH2 = ['w'];
const NAMES = [L1, L2, L3];
const TARGETS = [
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
const MODES = [0o644, 0o644, 0o600, 0o755, 0o4755, 0o2755, 0o1777, 0o000, 0o444];
const DIR_MODES = [0o755, 0o755, 0o700, 0o1777, 0o2775, 0o555];
const IDS = [0, 0, 0, 1000, 65534];
const TIMES = [1_000_000_000, 1_000_000_001, 1_100_000_000, 900_000_000];

function content(r: Rng, tag: string): string {
  return r.weighted([
    [6, `${tag}`],
    [3, `${tag}-${'z'.repeat(r.int(40))}`],
    [1, ''],
    [1, bigContent(4096 + r.int(70_000), r.int(30))],
  ] as const);
}

function genLayer(r: Rng, li: number, bottom: boolean): LayerSpec {
  const out: SpecEntry[] = [];
  const files: string[] = [];
  const dirs: string[] = [''];
  const walk = (prefix: string, depth: number): void => {
    const names = depth === 0 ? [...L1, ...(r.chance(0.1) ? FRESH1 : [])] : NAMES[depth];
    const p = [0.75, 0.45, 0.3][depth];
    for (const n of names) {
      if (!r.chance(p)) continue;
      const path = prefix ? `${prefix}/${n}` : n;
      const attrs = { uid: r.pick(IDS), gid: r.pick(IDS), mtime: r.pick(TIMES) };
      const kind = r.weighted([
        [depth < 2 ? 40 : 15, 'dir'],
        [30, 'file'],
        [9, 'symlink'],
        [bottom ? 3 : 12, 'whiteout'],
        [3, 'fifo'],
      ] as const);
      switch (kind) {
        case 'dir': {
          const opaque = !bottom && r.chance(0.2);
          out.push({ type: 'dir', path, mode: r.pick(DIR_MODES), opaque, ...attrs });
          dirs.push(path);
          if (depth < 2) walk(path, depth + 1);
          break;
        }
        case 'file':
          out.push({ type: 'file', path, content: content(r, `L${li}:${path}`), mode: r.pick(MODES), ...attrs });
          files.push(path);
          break;
        case 'symlink':
          out.push({ type: 'symlink', path, target: r.pick(TARGETS), uid: attrs.uid, gid: attrs.gid, mtime: attrs.mtime });
          break;
        case 'whiteout':
          out.push({ type: 'whiteout', path });
          break;
        case 'fifo':
          out.push({ type: 'fifo', path, mode: 0o644, ...attrs });
          break;
      }
    }
  };
  walk('', 0);
  // Hard links to a file of this layer, at a free name in a dir of this layer.
  const taken = new Set(out.map((e) => e.path));
  for (let k = 0; k < 2 && files.length && r.chance(0.35); k++) {
    const d = r.pick(dirs);
    const depth = d === '' ? 0 : d.split('/').length;
    if (depth > 2) continue;
    const name = r.pick([...NAMES[depth], ...(depth === 0 ? FRESH1 : FRESH2)]);
    const path = d ? `${d}/${name}` : name;
    if (taken.has(path)) continue;
    taken.add(path);
    out.push({ type: 'hardlink', path, target: r.pick(files) });
  }
  return out;
}

function genOptions(r: Rng): KernelOptions {
  return r.weighted<KernelOptions>([
    [40, {}],
    [20, { redirectDir: true }],
    [13, { index: true }],
    [10, { redirectDir: true, index: true }],
    [12, { metacopy: true }],
    [5, { readOnly: true }],
  ]);
}

const OPEN_FLAGS: FlagName[][] = [
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

type Kind = 'dir' | 'file' | 'symlink' | 'fifo';

/**
 * What the merged lower stack shows (path → type), computed the OCI way: per layer, whiteouts,
 * opaque markers and non-dirs first delete what lies below, then the layer's entries are added.
 * Only used to aim ops at names of a useful type; results never depend on it.
 */
export function lowerView(spec: Spec): Map<string, Kind> {
  let view = new Map<string, Kind>();
  const under = (p: string, q: string): boolean => q.startsWith(`${p}/`);
  for (const layer of spec) {
    const next = new Map(view);
    const drop = (p: string, self: boolean): void => {
      for (const q of [...next.keys()]) if (under(p, q) || (self && q === p)) next.delete(q);
    };
    for (const e of layer) {
      if (e.type === 'whiteout') drop(e.path, true);
      else if (e.type === 'opaque' || (e.type === 'dir' && e.opaque)) drop(e.path, false);
      else if (e.type !== 'dir') drop(e.path, true);
    }
    for (const e of layer) {
      if (e.type === 'whiteout' || e.type === 'opaque') continue;
      const parts = e.path.split('/');
      for (let i = 1; i < parts.length; i++) next.set(parts.slice(0, i).join('/'), 'dir');
      if (e.type === 'hardlink') {
        const t = layer.find((x) => x.path === e.target);
        next.set(e.path, t?.type === 'symlink' ? 'symlink' : t?.type === 'fifo' ? 'fifo' : 'file');
      } else next.set(e.path, e.type);
    }
    view = next;
  }
  return view;
}

/**
 * Drops whiteouts the kernel would LIST: in a lower directory that is not merged with a directory
 * below it (a new or opaque dir of that layer), overlayfs iterates the real directory and readdir
 * returns the char 0/0 device itself, while lstat of the name says ENOENT (observed on 6.18; the
 * documentation says whiteouts are never listed). OCI producers do not write such whiteouts (they
 * would hide nothing), so the random suite avoids this kernel quirk instead of reporting it on every
 * case. Whiteouts directly in the root are kept: the root is always merged.
 */
export function sanitizeSpec(spec: Spec): Spec {
  return spec.map((layer, i) => {
    const below = lowerView(spec.slice(0, i));
    const opaque = new Set(layer.filter((e) => e.type === 'opaque' || (e.type === 'dir' && e.opaque)).map((e) => e.path));
    return layer.filter((e) => {
      if (e.type !== 'whiteout') return true;
      const k = e.path.lastIndexOf('/');
      if (k < 0) return true;
      const parent = e.path.slice(0, k);
      // An opaque ancestor in this layer cuts the merge with the layers below.
      const parts = parent.split('/');
      for (let j = 1; j <= parts.length; j++) if (opaque.has(parts.slice(0, j).join('/'))) return false;
      return below.get(parent) === 'dir';
    });
  });
}

interface PathGen {
  /** Any path; `want` biases toward names currently believed to be of that type, 'new' toward free names. */
  path: (want?: Kind | 'new') => string;
  remember: (p: string, kind: Kind) => void;
}

function genPathFactory(r: Rng, spec: Spec, plain: boolean): PathGen {
  const typed = new Map<string, Kind>();
  for (const [p, k] of lowerView(spec)) typed.set(`/${p}`, k);
  // Names mentioned anywhere (incl. whited-out and hidden ones): good candidates for "deleted" names.
  const mentioned = new Set<string>();
  for (const layer of spec) for (const e of layer) mentioned.add(`/${e.path}`);
  const remember = (p: string, kind: Kind): void => {
    const q = p.replace(/\/+$/, '');
    if (q && q !== '/') typed.set(q, kind);
  };
  const fresh = (): string => {
    const depth = r.weighted([
      [5, 1],
      [4, 2],
      [1, 3],
    ] as const);
    const parts: string[] = [];
    for (let d = 0; d < depth; d++) parts.push(r.pick(d === 0 ? [...L1, ...FRESH1] : d === 1 ? [...L2, ...FRESH2] : L3));
    return `/${parts.join('/')}`;
  };
  const freeName = (): string | undefined => {
    const dirs = ['/', ...[...typed].filter(([p, k]) => k === 'dir' && p.split('/').length <= 3).map(([p]) => p)];
    const d = r.pick(dirs);
    const depth = d === '/' ? 0 : d.split('/').length - 1;
    const names = depth === 0 ? [...L1, ...FRESH1] : depth === 1 ? [...L2, ...FRESH2] : L3;
    const free = names.map((n) => (d === '/' ? `/${n}` : `${d}/${n}`)).filter((p) => !typed.has(p));
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
    else if (mentioned.size && r.chance(0.3)) base = r.pick([...mentioned]);
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
  /** Ops per case are 4..maxOps (default 17). */
  maxOps?: number;
  /** Only plain paths: no 'a/', 'a/.', 'a/../a', '/' spellings (for triage past known differences). */
  plainPaths?: boolean;
}

/** Case `index` of run `seed`. */
export function genCase(seed: number, index: number, o: GenOptions = {}): Case {
  const r = new Rng(caseSeed(seed, index));
  const nLayers = r.weighted([
    [3, 1],
    [5, 2],
    [3, 3],
    [1, 4],
  ] as const);
  const spec: Spec = [];
  for (let i = 0; i < nLayers; i++) spec.push(genLayer(r, i, i === 0));
  spec.splice(0, spec.length, ...sanitizeSpec(spec));
  const opts = genOptions(r);
  const { path, remember } = genPathFactory(r, spec, !!o.plainPaths);
  const ops: Op[] = [];
  const open = new Map<number, boolean>(); // slot -> writable
  let nextSlot = 1;
  const nOps = 4 + r.int((o.maxOps ?? 17) - 3);
  const data = (): string =>
    r.weighted([
      [8, `w${r.int(100)}`],
      [1, ''],
      [1, bigContent(5000 + r.int(5000), r.int(9))],
    ] as const);
  const pos = (): number | null =>
    r.weighted([
      [6, null],
      [2, 0],
      [1, 2],
      [1, 4096 + r.int(8192)],
    ] as const);
  /** fchmod, fchown, futimes, ftruncate or fsync on a held descriptor. */
  const fdMeta = (fd: number): Op =>
    r.weighted<Op>([
      [3, { op: 'fchmod', fd, mode: r.pick(MODES) }],
      [2, { op: 'fchown', fd, uid: r.pick(IDS), gid: r.pick(IDS) }],
      [2, { op: 'futimes', fd, atime: r.pick(TIMES), mtime: r.pick(TIMES) }],
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
        ops.push({ op: 'writeFile', path: p, data: data(), ...(flag ? { flag } : {}), ...(r.chance(0.2) ? { mode: r.pick(MODES) } : {}) });
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
        ops.push({ op: 'open', fd: slot, path: p, flags, ...(r.chance(0.2) ? { mode: r.pick(MODES) } : {}) });
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
              { op: 'writeFile', path: p, data: data(), mode: r.pick(MODES) },
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
            [2, { op: 'chmod', path: '/', mode: r.pick(DIR_MODES) }],
            [1, { op: 'chown', path: '/', uid: r.pick(IDS), gid: r.pick(IDS) }],
            [2, { op: 'utimes', path: '/', atime: r.pick(TIMES), mtime: r.pick(TIMES) }],
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
        else if (fop === 'ftruncate') ops.push({ op: 'ftruncate', fd: slot, length: r.pick([0, 1, 3, 10_000]) });
        else if (fop === 'fstat') ops.push({ op: 'fstat', fd: slot });
        else if (fop === 'meta') ops.push(fdMeta(slot));
        else {
          ops.push({ op: 'close', fd: slot });
          open.delete(slot);
        }
        break;
      }
      case 'truncate':
        ops.push({ op: 'truncate', path: path('file'), length: r.pick([0, 1, 2, 5000]) });
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
        ops.push({ op: 'mkdir', path: p, ...(r.chance(0.25) ? { recursive: true } : {}), ...(r.chance(0.2) ? { mode: r.pick(DIR_MODES) } : {}) });
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
        ops.push({ op: 'symlink', target: r.pick(TARGETS), path: p });
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
        ops.push({ op: 'chmod', path: path(), mode: r.pick([...MODES, ...DIR_MODES]) });
        break;
      case 'chown':
        ops.push({ op: 'chown', path: path(), uid: r.pick(IDS), gid: r.pick(IDS), ...(r.chance(0.3) ? { nofollow: true } : {}) });
        break;
      case 'utimes':
        ops.push({ op: 'utimes', path: path(), atime: r.pick(TIMES), mtime: r.pick(TIMES), ...(r.chance(0.3) ? { nofollow: true } : {}) });
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
  return { spec, opts, ops };
}
