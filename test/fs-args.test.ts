/**
 * Bad arguments, on Node's fs and on createFs(MemfsCore): the error (class, code, message) must be
 * the same, and so must the way it arrives: thrown by the sync call, thrown synchronously by the
 * callback call (not passed to the callback), a rejection of the promise call.
 */
import test from 'ava';
import { Buffer } from 'node:buffer';
import { norm } from './fs/compare.js';
import { bothSides, type Side } from './fs/sides.js';

type Fn = (...args: any[]) => any;
type Api = Record<string, Fn> & { promises: Record<string, Fn> };

/** A bad call: the function name (without Sync) and its arguments, given a side's path and fd. */
interface BadCall {
  name: string;
  args: (p: (rel: string) => string, fd: number) => unknown[];
  flavours?: Array<'sync' | 'callback' | 'promise'>;
}

const calls: BadCall[] = [
  { name: 'stat', args: () => [12] },
  { name: 'stat', args: () => [{}] },
  { name: 'stat', args: () => ['a\u0000b'] },
  { name: 'stat', args: () => [new URL('http://x/y')] },
  { name: 'stat', args: () => [new URL('file://host/y')] },
  { name: 'stat', args: () => [new URL('file:///y%2Fz')] },
  { name: 'readFile', args: (p) => [p('f'), { encoding: 'foo' }] },
  { name: 'readFile', args: (p) => [p('f'), 5] },
  { name: 'readFile', args: (p) => [p('f'), { flag: 'q' }] },
  { name: 'open', args: (p) => [p('f'), 'q'] },
  { name: 'open', args: (p) => [p('f'), 'r', 'abc'] },
  { name: 'open', args: (p) => [p('f'), 'r', -1] },
  { name: 'open', args: (p) => [p('f'), 1.5] },
  { name: 'open', args: (p) => [p('f'), 2 ** 40] },
  { name: 'close', args: () => ['x'] },
  { name: 'close', args: () => [-1] },
  { name: 'read', args: (_p, fd) => [fd, 'abc', 0, 1, 0] },
  { name: 'read', args: (_p, fd) => [fd, Buffer.alloc(4), 0, 8, 0] },
  { name: 'read', args: (_p, fd) => [fd, Buffer.alloc(4), -1, 2, 0] },
  { name: 'read', args: (_p, fd) => [fd, Buffer.alloc(4), 0, 2, 1.5] },
  { name: 'read', args: (_p, fd) => [fd, Buffer.alloc(4), 'x'], flavours: ['sync'] },
  { name: 'read', args: (_p, fd) => [fd, Buffer.alloc(0), 0, 1, 0] },
  { name: 'write', args: (_p, fd) => [fd, Buffer.alloc(4), 5] },
  { name: 'write', args: (_p, fd) => [fd, 5] },
  { name: 'write', args: (_p, fd) => [fd, 'abc', 0, 'hex'] },
  { name: 'writeFile', args: (p) => [p('f'), 5] },
  { name: 'writeFile', args: (p) => [p('f'), 'x', { flush: 'yes' }] },
  { name: 'chown', args: (p) => [p('f'), 'a', 1] },
  { name: 'chown', args: (p) => [p('f'), 2 ** 40, 0] },
  { name: 'chown', args: (p) => [p('f'), -2, 0] },
  { name: 'utimes', args: (p) => [p('f'), 'a', 1] },
  { name: 'utimes', args: (p) => [p('f'), 1, {}] },
  { name: 'access', args: (p) => [p('f'), 9] },
  { name: 'access', args: (p) => [p('f'), '1'] },
  { name: 'copyFile', args: (p) => [p('f'), p('g'), 9] },
  { name: 'rm', args: (p) => [p('f'), { force: 1 }] },
  { name: 'rm', args: (p) => [p('f'), 5] },
  { name: 'rm', args: (p) => [p('f'), { maxRetries: -1 }] },
  { name: 'rmdir', args: (p) => [p('d'), { retryDelay: 'x' }] },
  { name: 'mkdir', args: (p) => [p('n'), { recursive: 1 }] },
  { name: 'mkdir', args: (p) => [p('n'), 'abc'] },
  { name: 'readdir', args: (p) => [p('d'), { recursive: 1 }] },
  { name: 'readdir', args: (p) => [p('d'), 5] },
  { name: 'symlink', args: (p) => ['a', p('s'), 'weird'] },
  { name: 'symlink', args: (p) => [5, p('s')] },
  { name: 'link', args: (p) => [p('f'), 7] },
  { name: 'rename', args: (p) => [null, p('x')] },
  { name: 'mkdtemp', args: () => [5] },
  { name: 'ftruncate', args: (_p, fd) => [fd, 'x'] },
  { name: 'ftruncate', args: (_p, fd) => [fd, 1.5] },
  { name: 'truncate', args: (p) => [p('f'), 1.5] },
  { name: 'fchown', args: (_p, fd) => [fd, -2, 0] },
  { name: 'fchmod', args: (_p, fd) => [fd, '9'] },
  { name: 'futimes', args: (_p, fd) => [fd, null, 1] },
  { name: 'chmod', args: (p) => [p('f'), 'rwx'] },
  { name: 'readlink', args: () => [undefined] },
  { name: 'writev', args: (_p, fd) => [fd, [1, 2]] },
];

/** How a bad call ended: thrown at once, given to the callback, rejected, or (wrongly) succeeded. */
async function attempt(side: Side, flavour: 'sync' | 'callback' | 'promise', c: BadCall, fd: number): Promise<unknown> {
  const fs = side.fs as unknown as Api;
  const args = c.args(side.p, fd);
  try {
    if (flavour === 'sync') return ['returned', norm(fs[`${c.name}Sync`](...args), side.root)];
    if (flavour === 'promise') {
      const promise = fs.promises[c.name] ? fs.promises[c.name](...args) : new Promise((resolve, reject) => fs[c.name](...args, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r))));
      try {
        return ['resolved', norm(await promise, side.root)];
      } catch (e) {
        return ['rejected', norm(e, side.root)];
      }
    }
    return await new Promise((resolve) => {
      fs[c.name](...args, (e: unknown) => resolve(['called back', norm(e, side.root)]));
    });
  } catch (e) {
    return ['thrown', norm(e, side.root)];
  }
}

for (const flavour of ['sync', 'callback', 'promise'] as const) {
  test(`bad arguments give Node's errors [${flavour}]`, async (t) => {
    const sides = bothSides();
    try {
      const results = [];
      for (const side of sides) {
        const fs = side.fs as typeof import('node:fs');
        fs.writeFileSync(side.p('f'), 'data');
        fs.mkdirSync(side.p('d'));
        const fd = fs.openSync(side.p('f'), 'r+');
        const out = [];
        for (const c of calls) {
          if (c.flavours && !c.flavours.includes(flavour)) continue;
          out.push([c.name, await attempt(side, flavour, c, fd)]);
        }
        fs.closeSync(fd);
        results.push(out);
      }
      t.deepEqual(results[1], results[0]);
    } finally {
      for (const s of sides) s.dispose();
    }
  });
}

test('callback functions without a callback throw ERR_INVALID_ARG_TYPE like Node', (t) => {
  const sides = bothSides();
  try {
    const results = sides.map((side) => {
      const fs = side.fs as unknown as Api;
      return [
        ['stat', side.p('f')],
        ['readFile', side.p('f'), 'utf8'],
        ['mkdir', side.p('x'), {}],
        ['access', side.p('f')],
      ].map(([name, ...args]) => {
        try {
          fs[name as string](...args);
          return 'no error';
        } catch (e) {
          return norm(e, side.root);
        }
      });
    });
    t.is((results[0][0] as { err: string }).err, 'ERR_INVALID_ARG_TYPE');
    t.deepEqual(
      results[1].map((r) => (r as { err: string }).err),
      results[0].map((r) => (r as { err: string }).err),
    );
  } finally {
    for (const s of sides) s.dispose();
  }
});

test('existsSync never throws, exists calls back with a boolean', async (t) => {
  const sides = bothSides();
  try {
    for (const side of sides) {
      const fs = side.fs as typeof import('node:fs');
      for (const bad of [5, undefined, {}, 'a\u0000b']) t.false(fs.existsSync(bad as string), `${side.name} existsSync(${String(bad)})`);
      t.true(await new Promise<boolean>((resolve) => fs.exists(side.p(''), resolve)), side.name);
      t.false(await new Promise<boolean>((resolve) => fs.exists(side.p('missing'), resolve)), side.name);
    }
  } finally {
    for (const s of sides) s.dispose();
  }
});
