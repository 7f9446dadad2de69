// npm test: the compiled tests in .build/ (tsconfig.test.json, scripts/test-tree.mjs), plain node.
export default {
  files: ['.build/test/**/*.test.js', '!.build/test/slow/**'],
  nodeArguments: ['--enable-source-maps'],
  workerThreads: false,
  timeout: '5m',
};
