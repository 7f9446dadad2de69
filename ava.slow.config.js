// `npm run test:slow`: the tests too long for `npm test` (test/slow/, not matched by npm test's glob).
export default {
  files: ['test/slow/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '30m',
};
