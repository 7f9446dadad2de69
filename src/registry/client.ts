/**
 * One registry, as the distribution spec's client sees it: the scheme (HTTPS, verified, unless
 * the host is a loopback address or `--tls-verify=false`: then HTTPS without checks is tried first
 * and plain HTTP after, as Docker does for insecure registries), the auth challenge learnt from
 * `GET /v2/`, and requests that carry the right Authorization for their scope and turn error
 * statuses into one-line RegistryErrors.
 */
import { resolveLimits, type Limits } from '../archive/limits.js';
import { TokenCache, parseChallenge, type Challenge } from './auth.js';
import { findCredentials, type Credentials } from './credentials.js';
import { RegistryError, registryErrorText, type RegistryErrorCode } from './errors.js';
import { header, readLimited, Transport, type HttpRequest, type HttpResponse } from './http.js';
import { isLoopback, type Reference } from './reference.js';

export interface ClientOptions {
  /** Verify TLS certificates (default true; loopback registries are reached as Docker does). */
  tlsVerify?: boolean;
  /** `USER:PASS`, before any auth file. */
  creds?: string;
  /** Where auth files are looked up (default process.env). */
  env?: NodeJS.ProcessEnv;
  limits?: Partial<Limits>;
}

/** The scope of a repository (distribution token spec): `repository:NAME:ACTIONS`. */
export function repoScope(repository: string, actions: 'pull' | 'pull,push'): string {
  return `repository:${repository}:${actions}`;
}

const MAX_ERROR_BODY = 64 * 1024;

export class RegistryClient {
  readonly transport: Transport;
  readonly limits: Limits;
  readonly tokens = new TokenCache();
  /** Body bytes received from the registry (manifests, configs, blobs): what a command "fetched". */
  fetched = 0;
  private base?: string;
  private challenge?: Challenge | null;
  private creds?: Credentials | null;
  private readonly secure: boolean;

  constructor(
    readonly registry: string,
    readonly host: string,
    private readonly opts: ClientOptions = {},
  ) {
    this.secure = opts.tlsVerify !== false && !isLoopback(host);
    this.transport = new Transport(this.secure);
    this.limits = resolveLimits(opts.limits);
  }

  static for(ref: Reference, opts: ClientOptions = {}): RegistryClient {
    return new RegistryClient(ref.registry, ref.host, opts);
  }

  count(n: number): void {
    this.fetched += n;
  }

  /** The credentials for this registry and repository (looked up once per client). */
  async credentials(repository: string): Promise<Credentials | undefined> {
    if (this.creds === undefined) this.creds = (await findCredentials(this.registry, repository, this.opts)) ?? null;
    return this.creds ?? undefined;
  }

  /** `scheme://host`, found by `GET /v2/`, which also tells the auth challenge. */
  async baseUrl(): Promise<string> {
    if (this.base !== undefined) return this.base;
    const schemes = this.secure ? ['https'] : ['https', 'http'];
    let last: unknown;
    for (const scheme of schemes) {
      const url = `${scheme}://${this.host}/v2/`;
      let res: HttpResponse;
      try {
        res = await this.transport.send(url);
      } catch (e) {
        last = e;
        continue;
      }
      await res.body.dump();
      if (res.status === 401) this.challenge = parseChallenge(header(res, 'www-authenticate')) ?? null;
      else if (res.status >= 200 && res.status < 300) this.challenge = null;
      else throw new RegistryError('BAD_RESPONSE', url, `expected 200 or 401 from the registry's API root, found HTTP ${res.status}: is this a registry?`);
      this.base = `${scheme}://${this.host}`;
      return this.base;
    }
    throw last;
  }

  /**
   * A request to the registry at `path` (`/v2/...` or an absolute URL the registry gave, such as an
   * upload location), authorised for `scopes`. A 401 is answered once: the challenge it carries is
   * learnt, a token asked for, and the request sent again (so streamed bodies must be sent after
   * the scope's auth is known: call `authorize` first).
   */
  async request(path: string, scopes: string[], req: HttpRequest = {}): Promise<HttpResponse> {
    const base = await this.baseUrl();
    const url = /^https?:\/\//.test(path) ? path : `${base}${path}`;
    const repository = /^repository:([^:]+):/.exec(scopes[0] ?? '')?.[1] ?? '';
    for (let attempt = 0; ; attempt++) {
      const headers = { ...req.headers };
      const auth = this.challenge ? await this.tokens.header(this.challenge, scopes, await this.credentials(repository), this.transport) : undefined;
      if (auth) headers.authorization = auth;
      const res = await this.transport.send(url, { ...req, headers });
      if (res.status !== 401) return res;
      const fresh = parseChallenge(header(res, 'www-authenticate'));
      const body = await readLimited(res, MAX_ERROR_BODY, () => new RegistryError('BAD_RESPONSE', url, 'error body too long')).catch(() => Buffer.alloc(0));
      const canRetry = attempt === 0 && fresh !== undefined && (req.body === undefined || Buffer.isBuffer(req.body));
      if (canRetry) {
        if (this.challenge) this.tokens.forget(this.challenge, scopes);
        this.challenge = fresh;
        continue;
      }
      const creds = await this.credentials(repository);
      const why = registryErrorText(body.toString('utf8'));
      throw new RegistryError(
        'UNAUTHORIZED',
        url,
        `authentication required for scope ${scopes.join(' ') || '(none)'}${why ? ` (${why})` : ''}; ${creds ? `the credentials from ${creds.from} were refused` : 'no credentials found: use --creds USER:PASS or layerfs login'}`,
      );
    }
  }

  /**
   * Learns the challenge and gets the token for `scopes` before a streamed request; returns the
   * Authorization header value (undefined: none needed).
   */
  async authorize(scopes: string[], repository: string): Promise<string | undefined> {
    await this.baseUrl();
    return this.challenge ? this.tokens.header(this.challenge, scopes, await this.credentials(repository), this.transport) : undefined;
  }

  /** Whether the base URL is reached with certificate checks (or is plain HTTP). */
  get verified(): boolean {
    return this.secure;
  }

  /** An unexpected status as one line: the registry's errors[] code and message when it sent them. */
  async fail(res: HttpResponse, what: string): Promise<never> {
    const body = await readLimited(res, MAX_ERROR_BODY, () => new RegistryError('BAD_RESPONSE', res.url, 'error body too long')).catch(() => Buffer.alloc(0));
    const why = registryErrorText(body.toString('utf8'));
    const code: RegistryErrorCode = res.status === 404 ? 'NOT_FOUND' : res.status === 403 ? 'DENIED' : res.status === 401 ? 'UNAUTHORIZED' : 'BAD_RESPONSE';
    throw new RegistryError(code, res.url, `${what}: HTTP ${res.status}${why ? `: ${why}` : ''}`);
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
