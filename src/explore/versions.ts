/**
 * Every layer that touched a path, bottom first: the layers that stored an entry there (each a
 * version of the path, readable as the view after that layer) and the layers that deleted it.
 *
 * Rules: a layer's entry is a version even when it changed nothing visible (then it has no
 * `change`); a deletion is listed only when the path was visible before that layer (a whiteout or
 * opaque directory over nothing deletes nothing). `change` and `fields` are the path's A/M/D in
 * that layer's step, with the rules of truth/step-N.changes (changes.ts).
 */
import { differingFields } from './changes.js';
import { lookupIn } from './lookup.js';
import { contentHash, rawPath, TYPE_CHAR, type Stack } from './stack.js';
import type { Version } from './shapes.js';

export type { Version };

export function versionsOf(stack: Stack, path: string): Version[] {
  const raw = rawPath(path);
  const parts = raw === '' ? [] : raw.split('/');
  const out: Version[] = [];
  for (let k = 0; k < stack.count; k++) {
    const says = lookupIn(stack.trees[k], parts);
    if (says.kind === 'none') continue;
    const before = stack.rows(k).get(path);
    const after = stack.rows(k + 1).get(path);
    const change: Pick<Version, 'change' | 'fields'> = {};
    if (!before && after) change.change = 'A';
    else if (before && !after) change.change = 'D';
    else if (before && after) {
      const fields = differingFields(before, after);
      if (fields.length) Object.assign(change, { change: 'M', fields });
    }
    if (says.kind === 'deleted') {
      if (change.change === 'D') out.push({ layer: k + 1, kind: 'deleted', how: says.how, change: 'D' });
      continue;
    }
    const ino = says.ino;
    out.push({
      layer: k + 1,
      kind: 'entry',
      type: TYPE_CHAR[ino.type],
      mode: (ino.mode & 0o7777).toString(8).padStart(4, '0'),
      uid: ino.uid,
      gid: ino.gid,
      size: ino.type === 'file' ? (ino.data?.size ?? 0) : 0,
      ...(ino.type === 'file' && ino.data ? { sha256: contentHash(ino) } : {}),
      ...(ino.type === 'symlink' ? { target: ino.target } : {}),
      ...change,
    });
  }
  return out;
}
