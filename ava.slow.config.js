// `npm run test:slow`: the tests too long for `npm test` (test/slow/), and the seeded random suites
// that npm test runs shallow, here at depth (case counts set by the npm script), and commit-tools
// with every real tool on every committed format (LAYERFS_COMMIT_ALL), the zstd:chunked reads
// of every fixture, the archive fuzzer for a minute, and the benchmark's smoke run (test/slow/bench-smoke.test.ts, every figure).
export default {
  files: [
    'test/slow/**/*.test.ts',
    'test/kernel-random.test.ts',
    'test/cores-random.test.ts',
    'test/state-crash.test.ts',
    'test/state-faults.test.ts',
    'test/commit-tools.test.ts',
    'test/registry-zstd-chunked.test.ts',
    'test/fuzz-archive.test.ts',
  ],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '30m',
};
