/**
 * Real registries for the tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1 with a
 * port found free (bind port 0, release, start; a clash is retried with another port), its own
 * config and storage in a temp directory; optionally htpasswd (Basic) or token auth with a token
 * issuer written here (JWT RS256 signed by a cert made by openssl, which the registry trusts).
 * When docker-registry is missing the suite fails under CI=true and skips loudly otherwise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import bcrypt from 'bcryptjs';

/** A tool's stdout (or an error naming it); not tools.ts's run, so the bench can use this file without the fixtures. */
async function run(cmd: string, args: string[]): Promise<string> {
  try {
    return (await promisify(execFile)(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 })).stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(err.stderr || err.message).trim()}`);
  }
}

export const REGISTRY_BIN = '/usr/bin/docker-registry';

/** Why the registry tests cannot run here, or undefined when they can. */
export function registryMissing(): string | undefined {
  for (const tool of [REGISTRY_BIN, '/usr/bin/skopeo', '/usr/bin/openssl']) if (!existsSync(tool)) return `${tool} is not installed (apt-get install docker-registry skopeo openssl)`;
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Registry {
  /** `127.0.0.1:PORT` */
  host: string;
  dir: string;
  stop(): Promise<void>;
}

export type RegistryAuth = { kind: 'none' } | { kind: 'htpasswd'; user: string; password: string } | { kind: 'token'; realm: string; service: string; issuer: string; certFile: string };

function config(dir: string, port: number, auth: RegistryAuth): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
  ];
  if (auth.kind === 'htpasswd') {
    writeFileSync(join(dir, 'htpasswd'), `${auth.user}:${bcrypt.hashSync(auth.password, 5)}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: layerfs-test', `    path: ${join(dir, 'htpasswd')}`);
  } else if (auth.kind === 'token') {
    lines.push('auth:', '  token:', `    realm: ${auth.realm}`, `    service: ${auth.service}`, `    issuer: ${auth.issuer}`, `    rootcertbundle: ${auth.certFile}`);
  }
  return `${lines.join('\n')}\n`;
}

async function ready(host: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${log()}`);
    const ok = await fetch(`http://${host}/v2/`).then(
      (r) => r.status === 200 || r.status === 401,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer on ${host} within 15 s: ${log()}`);
}

export async function startRegistry(auth: RegistryAuth = { kind: 'none' }): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-registry-'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const cfg = join(dir, 'config.yml');
    writeFileSync(cfg, config(dir, port, auth));
    const child = spawn(REGISTRY_BIN, ['serve', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const host = `127.0.0.1:${port}`;
    try {
      await ready(host, child, () => stderr.trim().slice(-500));
    } catch (e) {
      child.kill('SIGKILL');
      if (attempt < 3 && /address already in use/.test(stderr)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return {
      host,
      dir,
      stop: async () => {
        if (child.exitCode === null) {
          const gone = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await gone;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

/** skopeo copy into a loopback registry (plain HTTP). */
export function skopeoCopy(src: string, dest: string, extra: string[] = []): Promise<string> {
  return run('skopeo', ['copy', '-q', '--src-tls-verify=false', '--dest-tls-verify=false', ...extra, src, dest]);
}

/** A registry's raw copy of a blob (its filesystem storage), as ground truth for byte counts. */
export function storedBlob(reg: Registry, digest: string): Buffer {
  return readFileSync(blobFile(reg, digest));
}

/** The file the registry stores a blob in (tests change it in place to tamper with what it serves). */
export function blobFile(reg: Registry, digest: string): string {
  const hex = digest.slice(7);
  return join(reg.dir, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

/** A layer or config descriptor as a manifest lists it. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** An OCI manifest as the registry serves it, and its length. */
export async function manifestOf(r: Registry, repo: string, tag: string): Promise<{ bytes: number; config: Descriptor; layers: Descriptor[] }> {
  const res = await fetch(`http://${r.host}/v2/${repo}/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  const body = Buffer.from(await res.arrayBuffer());
  const m = JSON.parse(body.toString()) as { config: Descriptor; layers: Descriptor[] };
  return { bytes: body.length, config: m.config, layers: m.layers };
}

// ---- token auth ----

export interface TokenIssuer {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  /** Token requests seen: their scope parameters and whether they carried valid credentials. */
  requests: Array<{ scopes: string[]; authenticated: boolean }>;
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * A token server as distribution's token spec describes: GET realm?service=S&scope=repository:R:A;
 * with the right Basic credentials it grants every action asked for; anonymously it grants none.
 */
export async function startTokenIssuer(dir: string, user: string, password: string): Promise<TokenIssuer> {
  const key = join(dir, 'issuer-key.pem');
  const certFile = join(dir, 'issuer-cert.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', certFile, '-days', '2', '-subj', '/CN=layerfs-test-issuer']);
  const der = new X509Certificate(readFileSync(certFile)).raw;
  const pem = readFileSync(key);
  const service = 'layerfs-test-registry';
  const issuer = 'layerfs-test-issuer';
  const requests: TokenIssuer['requests'] = [];
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    const authenticated = req.headers.authorization === expected;
    requests.push({ scopes, authenticated });
    if (req.headers.authorization !== undefined && !authenticated) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad user name or password' }] }));
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const access = authenticated
      ? scopes.map((s) => {
          const [type, ...rest] = s.split(':');
          const actions = rest.pop()!.split(',');
          return { type, name: rest.join(':'), actions };
        })
      : [];
    const header = { typ: 'JWT', alg: 'RS256', x5c: [der.toString('base64')] };
    const claims = { iss: issuer, sub: authenticated ? user : '', aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const body = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(body).sign(pem);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: `${body}.${b64url(sig)}`, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { realm: `http://127.0.0.1:${port}/token`, service, issuer, certFile, requests, close: () => new Promise((r) => server.close(() => r())) };
}
