/**
 * `layerfs serve`: the web explorer and container lab over one engine (docs/api.md).
 *
 * HTTP is fastify (routing with parameters, streamed bodies and replies, one error handler, and
 * `inject()` so the API tests run without sockets), with @fastify/static for the page and
 * range-parser for Range headers: what node:http would have us write by hand.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { Engine } from '../../engine/engine.js';
import { Catalog } from './catalog.js';
import { errorAnswer, notFound } from './errors.js';
import { fileRoutes } from './files.js';
import { imageRoutes } from './images.js';
import { Lab } from './lab.js';
import { pageRoutes } from './page.js';
import { bool, type Query } from './params.js';
import { check, type Safety } from './safety.js';
import { uploadRoutes } from './upload.js';

import { DEFAULT_UPLOAD_LIMIT, isLoopback } from './defaults.js';
import type { RemoteOptions } from '../../registry/store-image.js';

export { DEFAULT_UPLOAD_LIMIT, isLoopback };

/** The package's version (package.json is three levels up from src/web/server and dist/web/server). */
const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface ServeOptions {
  home?: string;
  /** IMAGE arguments: archive or OCI layout paths, docker:// references, or stored tags/ids. */
  images?: string[];
  /** How docker:// images' registries are reached (credentials, TLS, platform). */
  remote?: RemoteOptions;
  host?: string;
  port?: number;
  bindRoot?: string;
  uploadLimit?: number;
  /** dist/web/ by default. */
  pageDir?: string;
  /** Force a token even on loopback (tests); a non-loopback host always gets one. */
  token?: string | boolean;
}

export interface Server {
  app: FastifyInstance;
  engine: Engine;
  catalog: Catalog;
  lab: Lab;
  token?: string;
  /** The URL to open (with ?token= when there is one); after listen(). */
  url: string;
  listen(): Promise<string>;
  /** Saves the lab's open containers, stops listening, closes the images. */
  close(): Promise<void>;
}

export async function createServer(opts: ServeOptions = {}): Promise<Server> {
  const host = opts.host ?? '127.0.0.1';
  const loopback = isLoopback(host);
  const token = typeof opts.token === 'string' ? opts.token : opts.token || !loopback ? randomBytes(24).toString('hex') : undefined;
  const engine = await Engine.open({ home: opts.home });
  const catalog = new Catalog(engine, opts.remote);
  for (const ref of opts.images ?? []) await catalog.add(ref);
  const lab = new Lab(engine, catalog, opts.bindRoot);
  const uploadLimit = opts.uploadLimit ?? DEFAULT_UPLOAD_LIMIT;

  // No request logging (the first stdout line is the URL; errors answer the caller). JSON bodies up to 1 MiB.
  const app = Fastify({ logger: false, bodyLimit: 1 << 20, exposeHeadRoutes: true });
  let port = opts.port ?? 0;
  const safety: Safety = { token, loopback, host, port: () => port };
  app.addHook('onRequest', async (req, reply) => check(safety, req, reply));
  app.setErrorHandler((e, req, reply) => {
    const q = req.query as Query | undefined;
    const { status, body } = errorAnswer(e, typeof q?.path === 'string' ? q.path : undefined);
    reply.code(status).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const { status, body } = errorAnswer(notFound(`no such route: ${req.method} ${req.url.split('?')[0]}`));
    reply.code(status).send(body);
  });

  app.get('/api/info', async () => ({
    version: VERSION,
    bindRoot: !!opts.bindRoot,
    loopback,
    uploadLimit,
    images: catalog.named,
  }));
  imageRoutes(app, catalog);
  fileRoutes(app, catalog);
  uploadRoutes(app, engine, { limit: uploadLimit, loopback });

  app.get('/api/containers', async () => ({ containers: await lab.list() }));
  app.get('/api/volumes', async () => ({ volumes: await lab.volumes() }));
  app.post('/api/containers', async (req, reply) => reply.code(201).send(await lab.create(req.body)));
  app.get<{ Params: { id: string } }>('/api/containers/:id', async (req) => lab.show(req.params.id));
  app.patch<{ Params: { id: string } }>('/api/containers/:id', async (req) => lab.setStrategy(req.params.id, req.body));
  app.post<{ Params: { id: string } }>('/api/containers/:id/exec', async (req) => lab.exec(req.params.id, req.body));
  app.post<{ Params: { id: string } }>('/api/containers/:id/commit', async (req, reply) => reply.code(201).send(await lab.commit(req.params.id, req.body)));
  app.delete<{ Params: { id: string }; Querystring: Query }>('/api/containers/:id', async (req) => lab.rm(req.params.id, bool(req.query, 'volumes')));

  await pageRoutes(app, opts.pageDir);

  const server: Server = {
    app,
    engine,
    catalog,
    lab,
    token,
    url: '',
    async listen() {
      await app.listen({ host, port });
      port = (app.server.address() as AddressInfo).port;
      const shown = host.includes(':') ? `[${host}]` : host;
      server.url = `http://${shown}:${port}/${token ? `?token=${token}` : ''}`;
      return server.url;
    },
    async close() {
      try {
        await lab.shutdown();
      } finally {
        await app.close();
        await catalog.close();
      }
    },
  };
  return server;
}
