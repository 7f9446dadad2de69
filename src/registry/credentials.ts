/**
 * Where the user name and password for a registry come from, in podman's order
 * (containers-auth.json(5)); the first source that has an entry for the registry wins:
 *   1. `--creds USER:PASS`;
 *   2. `REGISTRY_AUTH_FILE` when set, else `${XDG_RUNTIME_DIR}/containers/auth.json`
 *      (else /run/containers/<uid>/auth.json): the file `layerfs login` writes;
 *   3. `${XDG_CONFIG_HOME:-~/.config}/containers/auth.json`;
 *   4. `${DOCKER_CONFIG:-~/.docker}/config.json`.
 * An entry is `"auths": { KEY: { "auth": base64("user:password") } }`. KEY is a host, or a host and
 * repository namespace (`host/team`), the most specific match winning; Docker's legacy keys
 * (`https://index.docker.io/v1/`) are read as their host. Credential helpers (`credsStore`,
 * `credHelpers`) and identity tokens are not supported: such entries are skipped.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { RegistryError } from './errors.js';

export interface Credentials {
  username: string;
  password: string;
  /** Where they were found, for messages (`--creds`, a file path). */
  from: string;
}

/** Parses `--creds USER:PASS` (the password may contain ':'). */
export function parseCreds(text: string): Credentials {
  const i = text.indexOf(':');
  if (i <= 0) throw new RegistryError('BAD_CREDENTIALS', '--creds', 'expected USER:PASS, with a user name before the first colon');
  return { username: text.slice(0, i), password: text.slice(i + 1), from: '--creds' };
}

/** The file `layerfs login` writes and podman reads first. */
export function loginAuthFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json');
  return join('/run/containers', String(process.getuid?.() ?? 0), 'auth.json');
}

/** Every auth file podman reads, in its order. */
export function authFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME || homedir();
  return [loginAuthFile(env), join(env.XDG_CONFIG_HOME || join(home, '.config'), 'containers', 'auth.json'), join(env.DOCKER_CONFIG || join(home, '.docker'), 'config.json')];
}

/** An auth file's key in the form registries are matched on: no scheme, no `/v1/`, docker.io's aliases as docker.io. */
function normalKey(key: string): string {
  let k = key.replace(/^https?:\/\//, '');
  if (/^[^/]+\/v[12]\/?$/.test(k)) k = k.replace(/\/v[12]\/?$/, '');
  k = k.replace(/\/+$/, '');
  const [host, ...rest] = k.split('/');
  const h = host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
  return [h, ...rest].join('/');
}

async function readAuthFile(file: string): Promise<Record<string, { auth?: unknown }> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new RegistryError('BAD_CREDENTIALS', file, `cannot be read: ${(e as Error).message}`, { cause: e });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new RegistryError('BAD_CREDENTIALS', file, `is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const auths = (parsed as { auths?: unknown } | null)?.auths;
  if (auths === undefined) return {};
  if (typeof auths !== 'object' || auths === null) throw new RegistryError('BAD_CREDENTIALS', file, '"auths" must be an object');
  return auths as Record<string, { auth?: unknown }>;
}

function decodeAuth(file: string, key: string, auth: string): { username: string; password: string } {
  const text = Buffer.from(auth, 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i <= 0) throw new RegistryError('BAD_CREDENTIALS', file, `auths[${JSON.stringify(key)}].auth is not base64 of "user:password"`);
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}

/**
 * The credentials for `registry` (as written in the reference) and `repository`, from the first
 * source that has them; undefined: go anonymous.
 */
export async function findCredentials(registry: string, repository: string, opts: { creds?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Credentials | undefined> {
  if (opts.creds !== undefined) return parseCreds(opts.creds);
  const parts = repository.split('/');
  // Most specific first: host/a/b/repo, host/a/b, ..., host.
  const wanted = parts.map((_, i) => [registry, ...parts.slice(0, parts.length - i)].join('/')).concat(registry);
  for (const file of authFiles(opts.env)) {
    const auths = await readAuthFile(file);
    if (!auths) continue;
    const byKey = new Map(Object.entries(auths).map(([k, v]) => [normalKey(k), { key: k, v }]));
    for (const w of wanted) {
      const hit = byKey.get(w);
      if (hit && typeof hit.v?.auth === 'string' && hit.v.auth !== '') return { ...decodeAuth(file, hit.key, hit.v.auth), from: file };
    }
  }
  return undefined;
}

/** `layerfs login`: writes (or replaces) the registry's entry in the podman auth file, keeping the others; mode 0600. */
export async function saveCredentials(registry: string, username: string, password: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = loginAuthFile(env);
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '{}';
    throw new RegistryError('BAD_CREDENTIALS', file, `cannot be read: ${e.message}`, { cause: e });
  });
  let existing: Record<string, unknown>;
  try {
    existing = JSON.parse(text) as Record<string, unknown>;
    if (typeof existing !== 'object' || existing === null || Array.isArray(existing)) throw new Error('not a JSON object');
  } catch (e) {
    throw new RegistryError('BAD_CREDENTIALS', file, `is not a JSON object, so it is left alone: ${(e as Error).message}`, { cause: e });
  }
  const auths = { ...(existing.auths as Record<string, unknown> | undefined), [registry]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } };
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${JSON.stringify({ ...existing, auths }, null, '\t')}\n`, 0o600);
  return file;
}
