/**
 * The op language's shrinker (test/ops/shrink.ts), on sequences whose failure is known: it keeps
 * exactly the ops the failure needs, with their flavours, and stops at its budget.
 */
import test from 'ava';
import { shrinkOps } from './ops/shrink.js';

const seq = (ops: string[]) => ({ ops, flavours: ops.map((o) => `flavour-${o}`), tree: ['kept as is'] });
// Fails while 'open' comes before 'fchmod' and 'unlink' is somewhere: what a stale-descriptor bug needs.
const fails = async (s: { ops: string[] }) => {
  const o = s.ops.indexOf('open');
  return o >= 0 && s.ops.indexOf('fchmod', o) > o && s.ops.includes('unlink');
};

test('shrinkOps keeps only the ops a failure needs, each with its flavour, and the rest of the case', async (t) => {
  const { small } = await shrinkOps(seq(['mkdir', 'open', 'stat', 'unlink', 'write', 'fchmod', 'close', 'rename']), fails);
  t.deepEqual(small, { ops: ['open', 'unlink', 'fchmod'], flavours: ['flavour-open', 'flavour-unlink', 'flavour-fchmod'], tree: ['kept as is'] });
});

test('shrinkOps never answers an empty sequence and keeps a case that needs every op', async (t) => {
  t.deepEqual((await shrinkOps(seq(['open', 'unlink', 'fchmod']), fails)).small.ops, ['open', 'unlink', 'fchmod']);
  t.deepEqual((await shrinkOps(seq(['a', 'b', 'c']), async () => true)).small.ops, ['a']);
});

test('shrinkOps stops at its budget of tries', async (t) => {
  let calls = 0;
  const { tries } = await shrinkOps(
    seq(['a', 'b', 'c', 'd', 'e', 'f']),
    async () => {
      calls++;
      return false;
    },
    3,
  );
  t.is(tries, 3);
  t.is(calls, 3);
});
