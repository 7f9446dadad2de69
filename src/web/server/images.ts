/**
 * The explorer's routes: images, an image's report, config, one tree level, name search, waste,
 * a size treemap, per-layer versions of a path, and two images compared. Each answer is made by
 * src/explore (the code behind `layerfs inspect/ls/find/diff-images --json`), never here.
 */
import type { FastifyInstance } from 'fastify';
import { compareRows, diffJson } from '../../explore/changes.js';
import { configSummary } from '../../explore/config.js';
import { findFiles } from '../../explore/find.js';
import { inspect } from '../../explore/inspect.js';
import { listLevel } from '../../explore/level.js';
import { sizeTree } from '../../explore/sizes.js';
import { versionsOf } from '../../explore/versions.js';
import { waste } from '../../explore/waste.js';
import type { Catalog } from './catalog.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { int, layerParams, oneOf, pathParam, str, type Query } from './params.js';

const MAX_LIMIT = 5000;

export function imageRoutes(app: FastifyInstance, catalog: Catalog): void {
  app.get('/api/images', async () => ({ images: await catalog.list() }));

  app.get<{ Params: { id: string } }>('/api/images/:id', async (req) => {
    const { id, stack } = await catalog.stack(req.params.id);
    return { id, configDigest: stack.image.configDigest ?? `sha256:${id}`, ...inspect(stack) };
  });

  app.get<{ Params: { id: string } }>('/api/images/:id/config', async (req) => configSummary((await catalog.stack(req.params.id)).stack.image));

  app.get<{ Params: { id: string }; Querystring: Query }>('/api/images/:id/tree', async (req) => {
    const q = req.query;
    const path = pathParam(q);
    const { stack } = await catalog.stack(req.params.id);
    return listLevel(stack, path, {
      ...layerParams(q, stack),
      offset: int(q, 'offset', 0, Number.MAX_SAFE_INTEGER),
      limit: int(q, 'limit', 1, MAX_LIMIT),
      sort: oneOf(q, 'sort', ['name', 'size'] as const),
      order: oneOf(q, 'order', ['asc', 'desc'] as const),
    });
  });

  app.get<{ Params: { id: string }; Querystring: Query }>('/api/images/:id/find', async (req) => {
    const q = req.query;
    const { stack } = await catalog.stack(req.params.id);
    const { layer, changes } = layerParams(q, stack);
    if (changes !== undefined) throw badRequest('find takes layer, not changes');
    const type = oneOf(q, 'type', ['f', 'd', 'l', 'c', 'b', 'p', 's', 'any'] as const) ?? 'f';
    const largerThan = int(q, 'largerThan', 0, Number.MAX_SAFE_INTEGER);
    const name = str(q, 'name') || undefined;
    const found = findFiles(stack.rows(layer ?? stack.count).values(), { largerThan, name, type });
    const offset = int(q, 'offset', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    const limit = int(q, 'limit', 1, MAX_LIMIT) ?? 500;
    return {
      total: found.length,
      offset,
      limit,
      entries: found.slice(offset, offset + limit).map((r) => ({ path: r.path, type: r.type, size: r.size, layer: r.layer })),
    };
  });

  app.get<{ Params: { id: string } }>('/api/images/:id/waste', async (req) => waste((await catalog.stack(req.params.id)).stack));

  app.get<{ Params: { id: string }; Querystring: Query }>('/api/images/:id/sizes', async (req) => {
    const q = req.query;
    const path = pathParam(q);
    const { stack } = await catalog.stack(req.params.id);
    const { layer, changes } = layerParams(q, stack);
    if (changes !== undefined) throw badRequest('sizes takes layer, not changes');
    const n = layer ?? stack.count;
    const tree = sizeTree(stack.rows(n), path, int(q, 'depth', 0, 6) ?? 2);
    if (!tree) throw notFound(`${path}: no such path after layer ${n}`, path);
    return tree;
  });

  app.get<{ Params: { id: string }; Querystring: Query }>('/api/images/:id/versions', async (req) => {
    const path = pathParam(req.query, 'path', true);
    const { stack } = await catalog.stack(req.params.id);
    const versions = versionsOf(stack, path);
    if (versions.length === 0) throw new ApiError(404, 'ENOENT', `${path}: no layer of this image has this path`, path);
    return { path, versions };
  });

  app.get<{ Querystring: Query }>('/api/diff', async (req) => {
    const a = str(req.query, 'a');
    const b = str(req.query, 'b');
    if (!a || !b) throw badRequest('diff needs two images: ?a=ID&b=ID');
    const A = (await catalog.stack(a)).stack;
    const B = (await catalog.stack(b)).stack;
    return diffJson(compareRows(A.rows(), B.rows()));
  });
}
