/**
 * Who may call the server (docs/api.md, "Safety"):
 * - a request whose `Origin` is not the server's own origin is refused (403): another page open
 *   in the browser cannot drive the lab, whatever it sends;
 * - on loopback, the `Host` header must name the server (127.0.0.1, localhost or [::1], with its
 *   port): a DNS-rebinding page on a foreign name is refused even without an Origin;
 * - with a token (non-loopback --host), every /api/ call carries it: `?token=`, the
 *   `Authorization: Bearer` or `X-Layerfs-Token` header, or the `layerfs_token` cookie the server
 *   sets when the page is opened with `?token=`. Compared in constant time.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { forbidden } from './errors.js';

export interface Safety {
  token?: string;
  loopback: boolean;
  /** The port the server listens on (known once listening). */
  port(): number;
  /** The host it was asked to listen on. */
  host: string;
}

export const COOKIE = 'layerfs_token';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieToken(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** The hosts (with port) the server answers to on loopback. */
function ownHosts(s: Safety): string[] {
  const p = s.port();
  const names = new Set(['127.0.0.1', 'localhost', '[::1]', s.host.includes(':') ? `[${s.host}]` : s.host]);
  return [...names].map((h) => `${h}:${p}`);
}

/** The onRequest check: throws 403 for a foreign Origin or Host, or a missing or wrong token. */
export function check(s: Safety, req: FastifyRequest, reply: FastifyReply): void {
  const host = req.headers.host ?? '';
  if (s.loopback && !ownHosts(s).includes(host.toLowerCase())) throw forbidden(`refused: Host ${JSON.stringify(host)} is not this server`);
  const origin = req.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${host.toLowerCase()}`) {
    throw forbidden(`refused: a request from another origin (${origin}); the lab answers only its own page`);
  }
  if (!s.token) return;
  const url = new URL(req.url, 'http://x');
  const given = url.searchParams.get('token') ?? undefined;
  const auth = req.headers.authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
  const header = req.headers['x-layerfs-token'];
  const candidates = [given, auth, typeof header === 'string' ? header : undefined, cookieToken(req.headers.cookie)];
  const ok = candidates.some((c) => c !== undefined && sameSecret(c, s.token!));
  const api = url.pathname.startsWith('/api/');
  if (!ok && api) throw forbidden('refused: this server needs its token (the ?token= printed when it started)');
  // Opening the page with the token: the page's own calls then carry it as a cookie.
  if (ok && given !== undefined) reply.header('set-cookie', `${COOKIE}=${encodeURIComponent(s.token)}; HttpOnly; SameSite=Strict; Path=/`);
}
