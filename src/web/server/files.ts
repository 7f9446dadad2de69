/**
 * A file's bytes out of an image (`layerfs cat`): the view after layer N, symlinks followed inside
 * the image, with HTTP Range (one range; several are merged, and if they stay several the whole
 * file is sent, which RFC 9110 allows). Bytes are streamed in 1 MiB reads of the layer's data.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import rangeParser from 'range-parser';
import { nameBytes } from '../../archive/names.js';
import type { FileData } from '../../layer/data.js';
import { esc } from '../../out/manifest.js';
import { rawPath, type Row, type Stack } from '../../explore/stack.js';
import { View } from '../../view.js';
import type { Catalog } from './catalog.js';
import { ApiError } from './errors.js';
import { layerParams, pathParam, type Query } from './params.js';

const views = new WeakMap<Stack, Map<number, View>>();

/** A read-only view of the image after n layers, made once per step (for following symlinks). */
function viewAt(stack: Stack, n: number): View {
  let m = views.get(stack);
  if (!m) views.set(stack, (m = new Map()));
  let v = m.get(n);
  if (!v) m.set(n, (v = View.fromImage(stack.image, { readOnly: true }).atLayer(n)));
  return v;
}

/** The regular file at a display path after n layers; a symlink (on the way or at the end) is followed inside the image. */
export function fileRow(stack: Stack, path: string, n: number): Row {
  const rows = stack.rows(n);
  let row = rows.get(path);
  if (!row || row.type === 'l') {
    let real: string;
    try {
      real = viewAt(stack, n).fs.realpathSync('/' + rawPath(path)) as string;
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'ENOENT';
      throw new ApiError(code === 'ENOENT' ? 404 : 400, code, `${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message} after layer ${n}`, path);
    }
    row = rows.get(esc(nameBytes(real)));
    if (!row) throw new ApiError(404, 'ENOENT', `${path}: no such file after layer ${n}`, path);
  }
  if (row.type === 'd') throw new ApiError(400, 'EISDIR', `${path}: is a directory (list it with /tree)`, path);
  if (row.type !== 'f') throw new ApiError(400, 'EINVAL', `${path}: not a regular file (type ${row.type})`, path);
  return row;
}

function* chunks(data: FileData, start: number, end: number): Generator<Buffer> {
  for (let pos = start; pos < end; ) {
    const buf = Buffer.allocUnsafe(Math.min(1 << 20, end - pos));
    const n = data.read(buf, 0, buf.length, pos);
    if (n <= 0) throw new Error(`the layer's data ended after ${pos} of ${end} bytes`);
    yield buf.subarray(0, n);
    pos += n;
  }
}

export function fileRoutes(app: FastifyInstance, catalog: Catalog): void {
  app.get<{ Params: { id: string }; Querystring: Query }>('/api/images/:id/file', async (req, reply) => {
    const path = pathParam(req.query, 'path', true);
    const { stack } = await catalog.stack(req.params.id);
    const { layer, changes } = layerParams(req.query, stack);
    if (changes !== undefined) throw new ApiError(400, 'BAD_REQUEST', 'file takes layer, not changes');
    const row = fileRow(stack, path, layer ?? stack.count);
    const data = row.ino.data!;
    const size = data.size;
    let start = 0;
    let end = size;
    reply.header('accept-ranges', 'bytes').header('content-type', 'application/octet-stream').header('x-layerfs-layer', String(row.layer)).header('cache-control', 'no-store');
    const header = req.headers.range;
    if (header) {
      const r = rangeParser(size, header, { combine: true });
      if (r === -1) {
        reply.header('content-range', `bytes */${size}`);
        throw new ApiError(416, 'RANGE_NOT_SATISFIABLE', `${path}: range ${header} is outside the file (${size} bytes)`, path);
      }
      // -2 (malformed) and several ranges: the whole file.
      if (r !== -2 && r.type === 'bytes' && r.length === 1) {
        start = r[0].start;
        end = r[0].end + 1;
        reply.code(206).header('content-range', `bytes ${start}-${end - 1}/${size}`);
      }
    }
    reply.header('content-length', String(end - start));
    return reply.send(Readable.from(chunks(data, start, end)));
  });
}
