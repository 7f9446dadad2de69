/**
 * What changed between two flattened views, path by path, with the rules of the fixtures'
 * changes.py (truth/step-N.changes):
 * - A: the path exists only in the newer view; D: only in the older one (every path below a
 *   deleted directory is listed too, so a whiteout of a directory counts each path under it);
 * - M: in both, with the fields that differ: type mode owner content target linkgroup xattrs
 *   (content only when both are regular files; a type change is "M type,...").
 * Listed in raw path byte order.
 */
import { contentHash, type Row, type Stack } from './stack.js';
import type { ChangeKind, DiffEntry, DiffSide } from './shapes.js';

export type { ChangeKind, DiffEntry };

export interface PathChange {
  kind: ChangeKind;
  path: string;
  /** M only: the fields that differ. */
  fields?: string[];
  /** The row before (D, M) and after (A, M). */
  before?: Row;
  after?: Row;
}

function sameContent(a: Row, b: Row): boolean {
  if (a.size !== b.size) return false;
  if (a.ino.data === b.ino.data) return true;
  return contentHash(a.ino) === contentHash(b.ino);
}

/** The fields in which two rows of one path differ (changes.py order). */
export function differingFields(o: Row, n: Row): string[] {
  const what: string[] = [];
  if (o.type !== n.type) what.push('type');
  if (o.mode !== n.mode) what.push('mode');
  if (o.uid !== n.uid || o.gid !== n.gid) what.push('owner');
  if (o.type === 'f' && n.type === 'f' && !sameContent(o, n)) what.push('content');
  // A symlink's manifest sha256 is that of its target, so comparing targets covers both.
  if (o.target !== n.target) what.push('target');
  if (o.linkgroup !== n.linkgroup) what.push('linkgroup');
  if (o.xattrs !== n.xattrs) what.push('xattrs');
  return what;
}

export function compareRows(older: Map<string, Row>, newer: Map<string, Row>): PathChange[] {
  const out: PathChange[] = [];
  const keys = new Map<string, Buffer>();
  for (const m of [older, newer]) for (const r of m.values()) keys.set(r.path, r.key);
  const paths = [...keys].sort((a, b) => Buffer.compare(a[1], b[1])).map((k) => k[0]);
  for (const p of paths) {
    const o = older.get(p);
    const n = newer.get(p);
    if (!o) out.push({ kind: 'A', path: p, after: n });
    else if (!n) out.push({ kind: 'D', path: p, before: o });
    else {
      const fields = differingFields(o, n);
      if (fields.length) out.push({ kind: 'M', path: p, fields, before: o, after: n });
    }
  }
  return out;
}

const stepCache = new WeakMap<Stack, Map<number, PathChange[]>>();

/** What layer n changed in the flattened view (rows after n-1 against rows after n), computed once per stack. */
export function stepChanges(stack: Stack, n: number): PathChange[] {
  let byStep = stepCache.get(stack);
  if (!byStep) stepCache.set(stack, (byStep = new Map()));
  let c = byStep.get(n);
  if (!c) byStep.set(n, (c = compareRows(stack.rows(stack.checkStep(n) - 1), stack.rows(n))));
  return c;
}

export function countChanges(changes: PathChange[]): { added: number; modified: number; deleted: number } {
  const c = { added: 0, modified: 0, deleted: 0 };
  for (const x of changes) {
    if (x.kind === 'A') c.added++;
    else if (x.kind === 'M') c.modified++;
    else c.deleted++;
  }
  return c;
}

/** One change as a line of truth/step-N.changes: `A /p`, `D /p`, `M /p field,field`. */
export function changeLine(c: PathChange): string {
  return c.kind === 'M' ? `M ${c.path} ${c.fields!.join(',')}` : `${c.kind} ${c.path}`;
}

function brief(r: Row | undefined): DiffSide | undefined {
  return r && { type: r.type, size: r.size, ...(r.target !== '-' ? { target: r.target } : {}) };
}

/** The one diff shape, of a container or of two images (`diff --json`, `GET /api/diff`). */
export function diffJson(changes: PathChange[]): DiffEntry[] {
  return changes.map((c) => {
    if (c.kind === 'A') return { kind: 'A', path: c.path, after: brief(c.after) };
    if (c.kind === 'D') return { kind: 'D', path: c.path, before: brief(c.before) };
    return { kind: 'C', path: c.path, fields: c.fields, before: brief(c.before), after: brief(c.after) };
  });
}
