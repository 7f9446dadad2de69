/**
 * Loading another archive into the state, as `layerfs load` does (engine.load: verified, stored
 * atomically, typed errors): by a host path (loopback servers only: a remote caller must not read
 * the host's files), or by upload. An upload is streamed to a scratch file of the state directory
 * (`.tmp-PID-…`, cleaned up by the next State.open if the server dies), refused past the size limit
 * (413, nothing kept), loaded, and the scratch file removed whatever happened.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { scratchPath } from '../../core/atomic.js';
import type { Engine } from '../../engine/engine.js';
import type { ImageRecord } from '../../engine/records.js';
import { ApiError, badRequest, forbidden } from './errors.js';
import { str, type Query } from './params.js';

export interface UploadOptions {
  limit: number;
  loopback: boolean;
}

const tooLarge = (limit: number) => new ApiError(413, 'TOO_LARGE', `the upload is larger than the limit of ${limit} bytes (--upload-limit)`);

export function uploadRoutes(app: FastifyInstance, engine: Engine, opts: UploadOptions): void {
  // The raw body is the archive: handed over as a stream, never buffered.
  app.addContentTypeParser(['application/octet-stream', 'application/x-tar', 'application/gzip'], (_req, payload, done) => done(null, payload));

  app.post<{ Body: unknown }>('/api/images/load', async (req, reply) => {
    if (!opts.loopback) throw forbidden('loading by host path is allowed only on a loopback server: upload the archive instead');
    const b = req.body as Record<string, unknown> | null;
    if (!b || typeof b.path !== 'string' || b.path === '') throw badRequest('the body must be {"path": "/host/archive.tar", "tag": optional}');
    if (b.tag !== undefined && typeof b.tag !== 'string') throw badRequest('tag must be a string');
    const image = await engine.load(b.path, { tag: b.tag as string | undefined });
    return reply.code(201).send({ image });
  });

  app.post<{ Querystring: Query }>('/api/images/upload', async (req, reply) => {
    const tag = str(req.query, 'tag') || undefined;
    const declared = Number(req.headers['content-length']);
    if (declared > opts.limit) throw tooLarge(opts.limit);
    const ctype = req.headers['content-type'] ?? '';
    if (!/^application\/(octet-stream|x-tar|gzip)\b/.test(ctype)) {
      throw badRequest(`send the archive as the raw body with Content-Type: application/octet-stream (got ${JSON.stringify(ctype)})`);
    }
    // An empty body gives no stream: it is an empty archive, refused by the loader like any other.
    const body = (req.body as NodeJS.ReadableStream | undefined) ?? Readable.from([]);
    const file = scratchPath('tmp', join(engine.state.home, 'upload.tar'));
    let bytes = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        cb(bytes > opts.limit ? tooLarge(opts.limit) : null, chunk);
      },
    });
    try {
      await pipeline(body, count, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
      let image: ImageRecord;
      try {
        image = await engine.load(file, { tag });
      } catch (e) {
        // The error names the archive as the caller knows it, not the scratch file.
        if (e instanceof Error) e.message = e.message.split(file).join(`upload${uploadName(req)}`);
        throw e;
      }
      // The record names where the archive came from: the upload, not the scratch file.
      const named = { ...image, source: `upload${uploadName(req)}` };
      if (image.source === file) await engine.state.putImage(named);
      return reply.code(201).send({ image: named, bytes });
    } finally {
      await rm(file, { force: true });
    }
  });
}

function uploadName(req: FastifyRequest<{ Querystring: Query }>): string {
  const name = str(req.query, 'filename');
  return name ? ` of ${name}` : '';
}
