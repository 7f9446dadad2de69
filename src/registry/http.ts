/**
 * The HTTP under the registry client. undici (Node's own fetch engine, as a package) rather than
 * global fetch: its `request` gives the raw status, headers and a streaming body, redirects are
 * never followed behind our back (we must drop Authorization on a cross-host hop, which fetch's
 * redirect mode does not let us decide), and an Agent can turn off certificate checks for
 * `--tls-verify=false`, which global fetch cannot.
 *
 * Rules:
 * - a redirect (301, 302, 303, 307, 308) is followed up to 10 times; the Authorization header goes
 *   only to the origin it was meant for (blob storage behind a redirect never sees the registry
 *   token); 303 turns the request into a GET;
 * - a connection that fails (refused, reset, TLS, timeout) is NETWORK naming the URL.
 */
import type { Readable } from 'node:stream';
import { Agent, type Dispatcher, request } from 'undici';
import { RegistryError } from './errors.js';

export interface HttpRequest {
  method?: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: Buffer | Readable;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Buffer> & { dump(): Promise<void>; text(): Promise<string>; destroy(e?: Error): void; on(event: 'error', fn: (e: Error) => void): unknown };
  /** The URL that answered (after redirects). */
  url: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export class Transport {
  private readonly agent: Agent;
  constructor(readonly tlsVerify: boolean) {
    this.agent = new Agent({ connect: { rejectUnauthorized: tlsVerify }, headersTimeout: 60_000, bodyTimeout: 60_000 });
  }

  async send(url: string, req: HttpRequest = {}): Promise<HttpResponse> {
    let current = new URL(url);
    let method = req.method ?? 'GET';
    let headers = { ...req.headers };
    const origin = current.origin;
    for (let hop = 0; ; hop++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(current, { method, headers, body: req.body, dispatcher: this.agent });
      } catch (e) {
        throw new RegistryError('NETWORK', current.href, `${method} failed: ${(e as Error).message}${(e as { code?: string }).code ? ` (${(e as { code?: string }).code})` : ''}`, { cause: e });
      }
      const location = res.headers.location;
      if (!REDIRECTS.has(res.statusCode) || typeof location !== 'string') {
        return { status: res.statusCode, headers: res.headers, body: res.body as unknown as HttpResponse['body'], url: current.href };
      }
      await res.body.dump();
      if (hop >= MAX_REDIRECTS) throw new RegistryError('BAD_RESPONSE', url, `more than ${MAX_REDIRECTS} redirects`);
      if (req.body !== undefined && res.statusCode !== 303 && typeof (req.body as Readable).pipe === 'function') {
        throw new RegistryError('BAD_RESPONSE', current.href, `redirected (${res.statusCode}) a streamed upload, which cannot be sent again`);
      }
      current = new URL(location, current);
      if (res.statusCode === 303) method = method === 'HEAD' ? 'HEAD' : 'GET';
      // Credentials are for the registry only: another origin gets none.
      if (current.origin !== origin) {
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
      }
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** Drops a body unread: the connection is closed, and the abort is not an uncaught error. */
export function discard(res: HttpResponse): void {
  res.body.on('error', () => undefined);
  res.body.destroy();
}

/** Reads a body whole, refusing (and cutting off) one over `limit` bytes. */
export async function readLimited(res: HttpResponse, limit: number, onOver: (n: number) => Error): Promise<Buffer> {
  const declared = Number(header(res, 'content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    discard(res);
    throw onOver(declared);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res.body) {
    n += chunk.length;
    if (n > limit) {
      discard(res);
      throw onOver(n);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
