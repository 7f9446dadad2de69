/**
 * The descriptor table every core uses (src/core/descriptors.ts): numbers as open(2) gives them
 * (the lowest free one from 3), EBADF for a number not open, entries kept whole.
 */
import test from 'ava';
import { DescriptorTable } from '../src/core/descriptors.js';

test('node: descriptor numbers are the lowest free from 3, reused after close, EBADF otherwise', (t) => {
  const d = new DescriptorTable<string>();
  t.deepEqual(
    ['a', 'b', 'c', 'd', 'e'].map((x) => d.add(x)),
    [3, 4, 5, 6, 7],
  );
  t.is(d.remove(6), 'd');
  t.is(d.remove(4), 'b');
  t.is(d.remove(7), 'e');
  t.deepEqual([d.add('x'), d.add('y'), d.add('z'), d.add('w')], [4, 6, 7, 8]);
  t.is(d.get(6, 'fstat'), 'y');
  t.throws(() => d.get(9, 'fstat'), { code: 'EBADF', message: /fstat/ });
  t.throws(() => d.remove(9), { code: 'EBADF' });
  t.is(d.size, 6);
  t.deepEqual(d.clear().sort(), ['a', 'c', 'w', 'x', 'y', 'z']);
  t.is(d.add('again'), 3);
  // Against a plain "scan for the lowest free number" model, over a random close/open sequence.
  const model = new Set<number>([3]);
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let i = 0; i < 2000; i++) {
    if (model.size > 0 && rnd(3) === 0) {
      const open = [...model];
      const fd = open[rnd(open.length)];
      d.remove(fd);
      model.delete(fd);
    } else {
      let want = 3;
      while (model.has(want)) want++;
      t.is(d.add('n'), want);
      model.add(want);
    }
  }
});
