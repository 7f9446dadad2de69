/**
 * The shrinker of the op language's sequences: drops ops (with their flavours) while the case
 * still fails, so a difference is reported as the few ops it needs. Used by fs-random and
 * cores-random; the kernel harness shrinks its layer specs too (test/kernel/harness.ts).
 */

export interface Shrinkable<Op, F> {
  ops: Op[];
  flavours: F[];
}

/**
 * Tries the sequence without each op in turn, last first, and keeps every removal after which
 * `fails` still holds; repeats until no op can go or `budget` tries are spent.
 */
export async function shrinkOps<Op, F, S extends Shrinkable<Op, F>>(s: S, fails: (candidate: S) => Promise<boolean>, budget = 200): Promise<{ small: S; tries: number }> {
  let cur = s;
  let tries = 0;
  for (let changed = true; changed && tries < budget; ) {
    changed = false;
    for (let k = cur.ops.length - 1; k >= 0 && tries < budget; k--) {
      if (cur.ops.length === 1) break;
      const next = { ...cur, ops: cur.ops.filter((_, j) => j !== k), flavours: cur.flavours.filter((_, j) => j !== k) };
      tries++;
      if (await fails(next)) {
        cur = next;
        changed = true;
      }
    }
  }
  return { small: cur, tries };
}
