/**
 * Registry auth (distribution's token spec and RFC 7235):
 * - a 401's `WWW-Authenticate` says how: `Basic realm=...` (send the user's credentials), or
 *   `Bearer realm=...,service=...,scope=...` (ask the realm for a token for that service and scope,
 *   with the user's credentials as Basic if there are any, anonymously otherwise);
 * - a token is kept per (realm, service, scope) until it expires (`expires_in`, 60 s when absent,
 *   as the spec says), then asked for again;
 * - a token server that refuses says so in one line naming the scope.
 */
import { RegistryError, registryErrorText } from './errors.js';
import { header, readLimited, type Transport } from './http.js';
import type { Credentials } from './credentials.js';

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** Parses the first Basic or Bearer challenge of a WWW-Authenticate header (quoted or bare params). */
export function parseChallenge(text: string | undefined): Challenge | undefined {
  if (!text) return undefined;
  const m = /^\s*(Basic|Bearer)\b\s*(.*)$/i.exec(text);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/g;
  for (let p = re.exec(m[2]!); p !== null; p = re.exec(m[2]!)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  }
  return { scheme: m[1]!.toLowerCase() as Challenge['scheme'], params };
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

/** Tokens live a little less than they say, so none is sent in its last seconds. */
const EXPIRY_MARGIN_MS = 5_000;
const MAX_TOKEN_RESPONSE = 1 << 20;

export class TokenCache {
  private tokens = new Map<string, { value: string; expires: number }>();
  /** How many tokens were asked for (tests check that a cached one is reused). */
  fetches = 0;

  forget(challenge: Challenge, scopes: string[]): void {
    this.tokens.delete(key(challenge, scopes));
  }

  /** The Authorization header for `scopes` under `challenge`; undefined: send none. */
  async header(challenge: Challenge, scopes: string[], creds: Credentials | undefined, transport: Transport): Promise<string | undefined> {
    if (challenge.scheme === 'basic') return creds ? basicHeader(creds) : undefined;
    const k = key(challenge, scopes);
    const cached = this.tokens.get(k);
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.value}`;
    const realm = challenge.params.realm;
    let url: URL;
    try {
      url = new URL(realm ?? '');
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      throw new RegistryError('BAD_RESPONSE', 'WWW-Authenticate', `Bearer realm ${JSON.stringify(realm)} is not an http(s) URL`);
    }
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    this.fetches++;
    const res = await transport.send(url.href, { headers: creds ? { authorization: basicHeader(creds) } : {} });
    const body = await readLimited(res, MAX_TOKEN_RESPONSE, (n) => new RegistryError('BAD_RESPONSE', realm!, `token response is over ${MAX_TOKEN_RESPONSE} bytes (${n})`));
    const scopeText = scopes.join(' ') || '(none)';
    if (res.status !== 200) {
      const why = registryErrorText(body.toString('utf8')) ?? body.toString('utf8').slice(0, 200).trim();
      throw new RegistryError(
        res.status === 401 ? 'UNAUTHORIZED' : 'DENIED',
        realm!,
        `the token server refused scope ${scopeText} (HTTP ${res.status}${why ? `: ${why}` : ''})${creds ? ` with the credentials from ${creds.from}` : ' (no credentials: use --creds or layerfs login)'}`,
      );
    }
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new RegistryError('BAD_RESPONSE', realm!, `token response for scope ${scopeText} is not JSON (${header(res, 'content-type') ?? 'no content type'})`);
    }
    const token = typeof parsed.token === 'string' && parsed.token !== '' ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || token === '') throw new RegistryError('BAD_RESPONSE', realm!, `token response for scope ${scopeText} has no token`);
    const life = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60;
    const issued = typeof parsed.issued_at === 'string' && !Number.isNaN(Date.parse(parsed.issued_at)) ? Math.min(Date.parse(parsed.issued_at), Date.now()) : Date.now();
    this.tokens.set(k, { value: token, expires: issued + life * 1000 - EXPIRY_MARGIN_MS });
    return `Bearer ${token}`;
  }
}

function key(c: Challenge, scopes: string[]): string {
  return `${c.params.realm}\n${c.params.service ?? ''}\n${[...scopes].sort().join(' ')}`;
}
