/**
 * CI-1 a suite that cannot run fails in CI and skips visibly elsewhere (test/helpers/require.ts).
 * Checked on a recording context, so the failure the CI mode gives is seen, not suffered.
 */
import test from 'ava';
import { inCI, requireOrSkip } from './helpers/require.js';

function recorder() {
  const calls: Array<[string, string?]> = [];
  return {
    calls,
    t: { fail: (m?: string) => void calls.push(['fail', m]), log: (...v: unknown[]) => void calls.push(['log', v.join(' ')]), pass: () => void calls.push(['pass']) },
  };
}

test('CI-1 with CI=true a missing requirement fails the test, naming it', (t) => {
  const r = recorder();
  t.false(requireOrSkip(r.t, 'no overlay mount (not root)', { CI: 'true' }));
  t.deepEqual(
    r.calls.map((c) => c[0]),
    ['fail'],
  );
  t.regex(r.calls[0][1]!, /cannot run in CI: no overlay mount \(not root\)/);
});

test('CI-1 outside CI a missing requirement is a visible SKIPPED line and a pass', (t) => {
  const r = recorder();
  t.false(requireOrSkip(r.t, 'zstd-napi is not built', {}));
  t.deepEqual(
    r.calls.map((c) => c[0]),
    ['log', 'pass'],
  );
  t.regex(r.calls[0][1]!, /^SKIPPED: zstd-napi is not built/);
});

test('CI-1 nothing missing: the test goes on and nothing is recorded', (t) => {
  for (const env of [{ CI: 'true' }, {}]) {
    const r = recorder();
    t.true(requireOrSkip(r.t, undefined, env));
    t.true(requireOrSkip(r.t, '', env));
    t.deepEqual(r.calls, []);
  }
});

test('CI-1 CI is read from the environment as CI services set it', (t) => {
  t.true(inCI({ CI: 'true' }));
  t.true(inCI({ CI: '1' }));
  t.false(inCI({}));
  t.false(inCI({ CI: 'false' }));
});
