/**
 * The one path walk every core uses (the union, the mount router, the host core, memfs), as the
 * kernel's link_path_walk and last-component lookup: a core says how to find a name in a
 * directory it holds and how to read a link (`WalkOps`); the rules of the walk are written here.
 */
import { followsLast, wantsDir, type Follow } from './path-rules.js';

export type NodeKind = 'dir' | 'link' | 'other';

/** What a core gives the walk. `N` is its handle for an object (a union Obj, a held descriptor…). */
export interface WalkOps<N> {
  /** Symlinks followed in one walk at most (Linux's MAXSYMLINKS is 40). */
  readonly maxHops: number;
  /** `name` in the directory `dir` (`names`: the names from the root to `dir`), undefined when it is not there. */
  child(dir: N, name: string, names: readonly string[]): N | undefined;
  kind(n: N): NodeKind;
  /** The target of the link `link`, called `name` in `dir`; undefined: it is no link any more, look again. */
  readlink(link: N, dir: N, name: string): string | undefined;
  /** A node the walk lets go of (left by '..', a link read, a failed walk): the host core closes its descriptor. */
  drop?(n: N): void;
}

export interface Walked<N> {
  /** chain[0] is the root; chain[i+1] is called names[i] in chain[i]. */
  chain: N[];
  names: string[];
  /** The object exists, and is chain's last; else the last of names is missing in chain's last. */
  found: boolean;
  /** The path ended with '/' or '/.' (or a followed last link's target did): it must be a directory. */
  slash: boolean;
  /** The path's last component was '.' or '..', or it had no component at all ('/'): 'root'. */
  dots: '.' | '..' | 'root' | undefined;
}

/**
 * Walks `path` from `root`. Failures come back as an errno code, not thrown: an Error costs more
 * than a whole lookup, and `exists` is a hot path. An exception from the core's ops lets go of
 * every node held and is passed on.
 */
export function walkPath<N>(ops: WalkOps<N>, root: N, path: string, follow: Follow, creat = false): Walked<N> | string {
  const chain: N[] = [root];
  const names: string[] = [];
  if (path === '') return dropAll(ops, chain, 'ENOENT');
  let parts = path.split('/');
  // OVL-25: a path ending in '/' or '/.' names a directory.
  let slash = parts.length > 1 && (parts[parts.length - 1] === '' || parts[parts.length - 1] === '.');
  parts = parts.filter((p) => p !== '');
  const end = parts[parts.length - 1];
  const dots = parts.length === 0 ? 'root' : end === '.' || end === '..' ? end : undefined;
  let hops = 0;
  let i = 0;
  const rootIsDir = ops.kind(root) === 'dir';
  // Whether chain's last is a directory (known from its lookup: kind is asked once per name).
  let inDir = rootIsDir;
  try {
    while (i < parts.length) {
      const p = parts[i++];
      const cur = chain[chain.length - 1];
      // A name after a non-directory, '.' and '..' included, is ENOTDIR.
      if (!inDir) return dropAll(ops, chain, 'ENOTDIR');
      if (p === '.') continue;
      // '..' at the root stays at the root.
      if (p === '..') {
        if (names.length > 0) {
          // Popped first: `ops.drop?.(chain.pop())` would not pop at all for a core without drop.
          const up = chain.pop()!;
          ops.drop?.(up);
          names.pop();
        }
        continue;
      }
      const last = i === parts.length;
      // open(2) with O_CREAT: a last name with a trailing slash pending (in the path or a link's
      // target) is EISDIR before it is looked up, whatever is there.
      if (last && slash && creat) return dropAll(ops, chain, 'EISDIR');
      const child = ops.child(cur, p, names);
      if (!child) {
        // A missing last name is where the object would be; a missing directory on the way is ENOENT.
        if (last) return { chain, names: [...names, p], found: false, slash, dots };
        return dropAll(ops, chain, 'ENOENT');
      }
      // Links on the way are always followed; the last one as `follow` says (path-rules.ts).
      const kind = ops.kind(child);
      if (kind === 'link' && (!last || followsLast(follow, slash))) {
        if (++hops > ops.maxHops) {
          ops.drop?.(child);
          return dropAll(ops, chain, 'ELOOP');
        }
        let target: string | undefined;
        try {
          target = ops.readlink(child, cur, p);
        } finally {
          ops.drop?.(child);
        }
        if (target === undefined) {
          i--;
          continue;
        }
        if (target === '') return dropAll(ops, chain, 'ENOENT');
        if (last && wantsDir(target)) slash = true;
        // An absolute target restarts at the root (the view's, the container's: never the host's).
        if (target.startsWith('/')) {
          while (chain.length > 1) {
            const n = chain.pop()!;
            ops.drop?.(n);
          }
          names.length = 0;
          inDir = rootIsDir;
        }
        parts = [...target.split('/').filter((x) => x !== ''), ...parts.slice(i)];
        i = 0;
        continue;
      }
      chain.push(child);
      names.push(p);
      inDir = kind === 'dir';
    }
  } catch (e) {
    dropAll(ops, chain, '');
    throw e;
  }
  return { chain, names, found: true, slash, dots };
}

/**
 * A failed walk lets go of every node it holds. (A function of its own, not a closure in the walk:
 * tsx names every closure it creates, which costs more than the walk.)
 */
function dropAll<N>(ops: WalkOps<N>, chain: N[], code: string): string {
  if (ops.drop) for (const n of chain) ops.drop(n);
  return code;
}
