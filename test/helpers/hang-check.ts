/**
 * For test/fuzz-archive.test.ts: a `check` that behaves like the real one (scripts/fuzz.ts) except
 * that it never returns on the fifth mutant, the way a reader stuck in a loop would.
 */
import { check as realCheck } from '../../scripts/fuzz.js';

let n = 0;
export const check: typeof realCheck = async (bytes, kind, verify, dir) => {
  if (++n === 5)
    for (;;) {
      /* a hang: no await, so the event loop never runs again */
    }
  return realCheck(bytes, kind, verify, dir);
};
