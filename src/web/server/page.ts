/**
 * The page: the files the page's build puts in dist/web/ (index.html and assets/), served as they
 * are. `/` is index.html; a page that was not built answers a clear 500 saying how to build it.
 * Only index.html and assets/ are served: dist/web/ also holds this server's compiled code.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/** dist/web/, from src/web/server/ (tsx) or dist/web/server/ (built): both are two levels up from the repository's root. */
export const PAGE_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

export async function pageRoutes(app: FastifyInstance, dir = PAGE_DIR): Promise<void> {
  const built = () => existsSync(dir + 'index.html');
  await app.register(fastifyStatic, { root: dir, serve: false, cacheControl: false });
  app.get('/', async (_req, reply) => {
    if (!built()) {
      return reply.code(500).type('text/plain; charset=utf-8').send(`layerfs: the web page is not built (no ${dir}index.html): run \`npm run build\` in the package directory\n`);
    }
    return reply.header('cache-control', 'no-store').sendFile('index.html');
  });
  app.get<{ Params: { '*': string } }>('/assets/*', async (req, reply) => {
    const rel = req.params['*'];
    if (rel.split('/').some((p) => p === '..' || p === '')) return reply.callNotFound();
    return reply.header('cache-control', 'no-store').sendFile('assets/' + rel);
  });
}
