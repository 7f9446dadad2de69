/**
 * Where a visible path comes from (`--origin`): the layer of the visible object, and the copies
 * of the same path in lower layers that it covers.
 *
 * Rules:
 * - The visible object's layer is the topmost layer that wrote it (for a merged directory: the
 *   topmost layer that listed it; layers that only created it implicitly do not count).
 * - Going down from that layer, every layer holding an entry at the path is listed, until a layer
 *   that deleted the path (whiteout, opaque parent, parent replaced): copies below a deletion are
 *   not covered by this object, they were already gone.
 * - A lower directory under a visible directory is merged (`merges`), anything else is hidden
 *   (`hides`); an opaque directory merges with nothing below it.
 */
import { lookupIn, opaqueOnPath } from './lookup.js';
import { splitPath, type Row, type Stack } from './stack.js';

import type { Origin } from './shapes.js';

export type { Origin };

export function originOf(stack: Stack, row: Row): Origin {
  const parts = splitPath(row.raw);
  const o: Origin = { layer: row.layer, merges: [], hides: [] };
  // An opaque directory on the path in the visible object's own layer: nothing below merges.
  let opaqueAbove = opaqueOnPath(stack.trees[row.layer - 1], parts);
  for (let k = row.layer - 2; k >= 0; k--) {
    const says = lookupIn(stack.trees[k], parts);
    if (says.kind === 'deleted') break;
    if (says.kind === 'none') continue;
    if (row.ino.isDir && says.ino.isDir && !opaqueAbove) o.merges.push(k + 1);
    else o.hides.push(k + 1);
    if (opaqueOnPath(stack.trees[k], parts)) opaqueAbove = true;
  }
  return o;
}

export function originText(o: Origin): string {
  const parts = [`layer ${o.layer}`];
  if (o.merges.length) parts.push(`merges ${o.merges.join(',')}`);
  if (o.hides.length) parts.push(`hides ${o.hides.join(',')}`);
  return parts.join('; ');
}
