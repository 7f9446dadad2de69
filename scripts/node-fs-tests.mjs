#!/usr/bin/env node
// Runs Node's own fs tests (test/parallel/test-fs-*.js and .mjs of a Node source tree) against a
// layerfs view's fs, one child process per file, and reports pass/fail/skip per file.
//
//   npm run build && node scripts/node-fs-tests.mjs /path/to/node/test [--json] [--timeout S]
//     [--jobs N] [--verbose] [--real] [NAME...]
//
// NAMEs: only the files whose name contains one of them. --real: the control run, the same
// children on Node's own fs (what fails there fails for reasons of this machine or Node version).
//
// Each child opens a fresh view: the sample image's layers (images/sample.tar) under one more
// layer holding the Node test tree at its own absolute path (common/, fixtures/ and the test-fs-*
// files of parallel/, tarred once by this script), so fixtures.path(), __filename and common's
// helpers read the same paths as on the host. In the test tree's modules (and only there),
// require('fs'), require('node:fs'), require('fs/promises') and require('node:fs/promises'), and
// the same ESM imports, answer the view's fs and fs.promises. test/common's tmpdir lives inside
// the view: NODE_TEST_DIR is a directory of the view's /tmp (made in the view and, empty, on the
// host too, so that process.chdir(tmpdir.path) succeeds; a relative path still resolves from the
// view's root, the documented decision). A file's `// Flags:` are given to its child, and
// NODE_SKIP_FLAG_CHECK keeps common from re-spawning itself on Node's real fs. A child that exits
// 0 passed, unless it printed common.skip()'s "1..0 # Skipped"; one killed by the timeout failed.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, Module, register } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SCRIPT), '..');
const FS_KEY = Symbol.for('layerfs.node-fs-tests.fs');

function usage(msg) {
  if (msg) process.stderr.write(`node-fs-tests: ${msg}\n`);
  process.stderr.write('usage: node scripts/node-fs-tests.mjs NODE_TEST_DIR [--json] [--timeout S] [--jobs N] [--verbose] [--real] [NAME...]\n');
  process.exit(2);
}

async function parent(argv) {
  let testDir;
  let json = false;
  let verbose = false;
  let real = false;
  let timeout = 60;
  let jobs = Math.max(1, Math.min(2, cpus().length));
  const names = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (a === '--verbose') verbose = true;
    else if (a === '--real') real = true;
    else if (a === '--timeout') timeout = Number(argv[++i]);
    else if (a === '--jobs') jobs = Number(argv[++i]);
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (testDir === undefined) testDir = resolve(a);
    else names.push(a);
  }
  if (!testDir) usage('no test directory');
  if (!(timeout > 0) || !(jobs >= 1)) usage('--timeout and --jobs take positive numbers');
  if (!existsSync(join(testDir, 'parallel')) || !existsSync(join(testDir, 'common', 'index.js'))) usage(`${testDir} has no parallel/ and common/index.js`);
  const dist = join(ROOT, 'dist', 'index.js');
  if (!existsSync(dist)) usage('dist/ is not built (npm run build)');

  const files = readdirSync(join(testDir, 'parallel'))
    .filter((f) => /^test-fs-.*\.(js|mjs)$/.test(f))
    .filter((f) => names.length === 0 || names.some((n) => f.includes(n)))
    .sort();

  const scratch = mkdtempSync(join(tmpdir(), 'layerfs-node-fs-'));
  try {
    // The sample image's layers, bottom first, and the test tree as one more layer.
    const sample = join(scratch, 'sample');
    mkdirSync(sample);
    execFileSync('tar', ['-xf', join(ROOT, 'images', 'sample.tar'), '-C', sample]);
    const manifest = JSON.parse(readFileSync(join(sample, 'manifest.json'), 'utf8'));
    const layers = manifest[0].Layers.map((l) => join(sample, l));
    const rel = relative('/', testDir);
    const list = [
      join(rel, 'common'),
      join(rel, 'fixtures'),
      ...readdirSync(join(testDir, 'parallel'))
        .filter((f) => f.startsWith('test-fs-'))
        .map((f) => join(rel, 'parallel', f)),
    ];
    writeFileSync(join(scratch, 'tree.list'), `${list.join('\n')}\n`);
    const tree = join(scratch, 'node-test.tar');
    const dirs = [join(rel, 'parallel')];
    for (let d = rel; d !== '.'; d = dirname(d)) dirs.unshift(d);
    execFileSync('tar', ['-cf', tree, '-C', '/', '--no-recursion', ...dirs]);
    execFileSync('tar', ['-rf', tree, '-C', '/', '-T', join(scratch, 'tree.list')]);
    layers.push(tree);

    const results = [];
    let next = 0;
    const started = Date.now();
    const worker = async () => {
      while (next < files.length) {
        const i = next++;
        const r = await runOne(files[i], i, { testDir, layers, scratch, dist, timeout, real });
        results[i] = r;
        if (!json) report(r, verbose);
      }
    };
    await Promise.all(Array.from({ length: jobs }, worker));
    const count = (s) => results.filter((r) => r.status === s).length;
    const summary = { total: results.length, pass: count('pass'), fail: count('fail'), skip: count('skip'), seconds: Math.round((Date.now() - started) / 100) / 10 };
    if (json) process.stdout.write(`${JSON.stringify({ node: process.version, testDir, fs: real ? 'node:fs' : 'view.fs', summary, results }, null, 2)}\n`);
    else process.stdout.write(`\n${summary.total} files: ${summary.pass} pass, ${summary.fail} fail, ${summary.skip} skip (${summary.seconds} s, Node ${process.version})\n`);
    process.exitCode = summary.fail ? 1 : 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function report(r, verbose) {
  const tag = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' }[r.status];
  process.stdout.write(`${tag} ${r.file} (${r.ms} ms)${r.reason ? `: ${r.reason}` : ''}\n`);
  if (verbose && r.status === 'fail') process.stdout.write(`${indent(r.output)}\n`);
}

function indent(text) {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/** The `// Flags:` of a test file (as common/index.js reads them). */
function flagsOf(path) {
  const m = /^\/\/ Flags:(.*)$/m.exec(readFileSync(path, 'utf8'));
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

/** The line that says why a failed child failed: its first error line, else its last line. */
function reasonOf(output) {
  const lines = output.split('\n').map((l) => l.trim());
  const err = lines.find((l) => /^(\w*Error|AssertionError|Error)\b.*[:[]/.test(l) || /^Uncaught /.test(l) || /^Mismatched .* function calls/.test(l));
  const line = err ?? lines.filter(Boolean).pop() ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

function runOne(file, index, { testDir, layers, scratch, dist, timeout, real }) {
  const path = join(testDir, 'parallel', file);
  // NODE_TEST_DIR: a directory of the view's /tmp; made empty on the host too (for process.chdir).
  const testRoot = join(scratch, `run-${index}`);
  mkdirSync(join(testRoot, '.tmp.0'), { recursive: true });
  const config = { file: path, testDir, layers, dist, testRoot, real };
  const env = { ...process.env, NODE_TEST_DIR: testRoot, NODE_SKIP_FLAG_CHECK: '1' };
  delete env.NODE_OPTIONS;
  const startedAt = Date.now();
  return new Promise((done) => {
    const proc = spawn(process.execPath, [...flagsOf(path), SCRIPT, '--child', JSON.stringify(config)], { env, cwd: dirname(testDir), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    proc.stdout.on('data', (d) => {
      stdout += d;
      output += d;
    });
    proc.stderr.on('data', (d) => {
      output += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill('SIGKILL');
    }, timeout * 1000);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      rmSync(testRoot, { recursive: true, force: true });
      const ms = Date.now() - startedAt;
      const skipped = /^1\.\.0 # Skipped: ?(.*)$/m.exec(stdout);
      if (timedOut) done({ file, status: 'fail', ms, reason: `timeout after ${timeout} s`, output });
      else if (code === 0 && skipped) done({ file, status: 'skip', ms, reason: skipped[1].trim(), output });
      else if (code === 0) done({ file, status: 'pass', ms, output: '' });
      else done({ file, status: 'fail', ms, reason: `${signal ? `signal ${signal}` : `exit ${code}`}: ${reasonOf(output)}`, output });
    });
  });
}

// ---- the child: one test file on a fresh view's fs ----

async function child({ file, testDir, layers, dist, testRoot, real }) {
  if (real) return runTest(file);
  const { openLayers } = await import(pathToFileURL(dist).href);
  const view = await openLayers(layers);
  const fs = view.fs;
  fs.mkdirSync(testRoot, { recursive: true });
  globalThis[FS_KEY] = fs;

  const inTree = testDir + sep;
  const answers = { fs, 'node:fs': fs, 'fs/promises': fs.promises, 'node:fs/promises': fs.promises };
  const load = Module._load;
  Module._load = function loadWithViewFs(request, parentModule, isMain) {
    if (Object.hasOwn(answers, request) && parentModule?.filename?.startsWith(inTree)) return answers[request];
    return load.call(this, request, parentModule, isMain);
  };
  register(`data:text/javascript,${encodeURIComponent(LOADER)}`, {
    data: { tree: pathToFileURL(testDir).href + '/', fsKeys: Object.keys(fs), promisesKeys: Object.keys(fs.promises) },
  });

  return runTest(file);
}

async function runTest(file) {
  process.argv = [process.execPath, file];
  if (file.endsWith('.mjs')) await import(pathToFileURL(file).href);
  else createRequire(import.meta.url)('node:module').runMain(file);
}

// ESM hooks: fs imports of the test tree's modules become modules re-exporting the view's fs.
const LOADER = `
const ANSWERS = { fs: 'fs', 'node:fs': 'fs', 'fs/promises': 'promises', 'node:fs/promises': 'promises' };
let tree = '';
let keys = {};
const ident = (k) => /^[A-Za-z_$][\\w$]*$/.test(k);
export function initialize(data) {
  tree = data.tree;
  keys = { fs: data.fsKeys.filter(ident), promises: data.promisesKeys.filter(ident) };
}
export function resolve(specifier, context, next) {
  if (Object.hasOwn(ANSWERS, specifier) && context.parentURL?.startsWith(tree)) {
    return { url: 'layerfs-view:' + ANSWERS[specifier], shortCircuit: true };
  }
  return next(specifier, context);
}
export function load(url, context, next) {
  if (!url.startsWith('layerfs-view:')) return next(url, context);
  const which = url.slice('layerfs-view:'.length);
  const get = 'globalThis[Symbol.for(' + JSON.stringify(${JSON.stringify(FS_KEY.description)}) + ')]' + (which === 'promises' ? '.promises' : '');
  const source = 'const m = ' + get + ';\\nexport default m;\\n' +
    keys[which].filter((k) => k !== 'default').map((k) => 'export const ' + k + ' = m.' + k + ';').join('\\n');
  return { format: 'module', source, shortCircuit: true };
}
`;

if (process.argv[2] === '--child') await child(JSON.parse(process.argv[3]));
else await parent(process.argv.slice(2));
