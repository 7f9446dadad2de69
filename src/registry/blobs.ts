/**
 * Downloading a blob into the blob store (blob-store.ts), as the distribution spec allows:
 * - a blob already stored (same digest and size) is not fetched again;
 * - a partial file left by an earlier attempt is continued with `Range: bytes=N-`; a registry that
 *   answers 200 (no range support) is read from the start instead, the partial file truncated;
 * - a body that ends early is asked for again from where it stopped (206); after 5 tries in a
 *   row that reach no byte further than before, TRUNCATED, the partial kept for the next pull;
 * - a body longer than the descriptor's size is cut off at once (TOO_LONG): an endless body
 *   never fills the disk;
 * - the sha256 is checked before the blob is stored (DIGEST_MISMATCH: the partial is deleted).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import type { BlobStore } from './blob-store.js';
import { repoScope, type RegistryClient } from './client.js';
import { RegistryError } from './errors.js';
import { discard, header } from './http.js';
import type { Descriptor } from './manifest.js';

const MAX_STALLS = 5;
const WRITE_BATCH = 1 << 20;
const FLUSH_MS = 200;
/** Bytes received and not yet written after which reading the body waits for the disk. */
const MAX_BEHIND = 8 << 20;

async function hashPrefix(file: string, bytes: number): Promise<Hash> {
  const h = createHash('sha256');
  if (bytes === 0) return h;
  for await (const chunk of createReadStream(file, { start: 0, end: bytes - 1 })) h.update(chunk as Buffer);
  return h;
}

/** Where a 206 starts: `Content-Range: bytes START-END/TOTAL`. */
function rangeStart(res: { headers: Record<string, string | string[] | undefined> }): number | undefined {
  const m = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header(res as never, 'content-range') ?? '');
  return m ? Number(m[1]) : undefined;
}

export interface BlobResult {
  path: string;
  /** Bytes received for it now (0 when it was stored already). */
  fetched: number;
}

export async function fetchBlob(client: RegistryClient, repository: string, d: Descriptor, store: BlobStore, onBytes?: (n: number) => void): Promise<BlobResult> {
  const final = store.path(d.digest);
  if (await store.has(d.digest, d.size)) return { path: final, fetched: 0 };
  const where = `${client.registry}/${repository}@${d.digest}`;
  const partial = store.partial(d.digest);
  let have = (await stat(partial).catch(() => undefined))?.size ?? 0;
  const fh = await open(partial, have > 0 ? 'r+' : 'w');
  let fetched = 0;
  try {
    if (have > d.size) {
      await fh.truncate(0);
      have = 0;
    }
    let hash = await hashPrefix(partial, have);
    let stalls = 0;
    let best = have;
    while (have < d.size) {
      const res = await client.request(`/v2/${repository}/blobs/${d.digest}`, [repoScope(repository, 'pull')], {
        headers: have > 0 ? { range: `bytes=${have}-` } : {},
      });
      if (res.status === 206 && rangeStart(res) === have) {
        // The rest, from where the file stops.
      } else if (res.status === 200) {
        if (have > 0) {
          await fh.truncate(0);
          have = 0;
          hash = createHash('sha256');
        }
      } else if (res.status === 206 || res.status === 416) {
        await res.body.dump();
        throw new RegistryError('BAD_RESPONSE', where, `asked for bytes ${have}- of the blob, got HTTP ${res.status} with Content-Range ${JSON.stringify(header(res, 'content-range') ?? '')}`);
      } else {
        await client.fail(res, `blob ${d.digest}`);
      }
      // Chunks are written in batches of WRITE_BATCH (one write per socket chunk is several times
      // slower), and at least every FLUSH_MS, so a kill loses at most that much; `have` counts
      // what is written, so a retry asks for the first byte not on disk. Writes run one at a time,
      // while the socket is read on: the body waits only when MAX_BEHIND bytes wait for the disk.
      let batch: Buffer[] = [];
      let batched = 0;
      let inflight = 0;
      let queued = false;
      let writing: Promise<void> = Promise.resolve();
      const flush = (): Promise<void> => {
        queued = true;
        return (writing = writing.then(async () => {
          queued = false;
          if (batched === 0) return;
          const data = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batched);
          batch = [];
          batched = 0;
          inflight = data.length;
          await fh.write(data, 0, data.length, have);
          hash.update(data);
          have += data.length;
          inflight = 0;
        }));
      };
      const timer = setInterval(() => void flush().catch(() => undefined), FLUSH_MS);
      try {
        for await (const chunk of res.body) {
          const got = have + inflight + batched + chunk.length;
          if (got > d.size) {
            discard(res);
            throw new RegistryError('TOO_LONG', where, `the blob is longer than the ${d.size} bytes its descriptor gives; reading stopped at ${got}`);
          }
          batch.push(chunk);
          batched += chunk.length;
          fetched += chunk.length;
          client.count(chunk.length);
          onBytes?.(chunk.length);
          if (batched >= MAX_BEHIND) await flush();
          else if (batched >= WRITE_BATCH && !queued) flush().catch(() => undefined);
        }
        await flush();
      } catch (e) {
        if (e instanceof RegistryError) throw e;
        // A connection cut mid-body: keep what came, ask again from where it stopped.
        await flush();
      } finally {
        clearInterval(timer);
        await writing.catch(() => undefined);
      }
      // Progress is a byte never held before: a registry that restarts from 0 each time makes none.
      if (have > best) {
        best = have;
        stalls = 0;
      } else stalls++;
      if (have < d.size && stalls >= MAX_STALLS) {
        throw new RegistryError('TRUNCATED', where, `the registry kept ending the blob at byte ${have} of ${d.size} (${MAX_STALLS} tries); the ${have} bytes are kept and the next pull resumes there`);
      }
    }
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== d.digest) {
      await fh.close().catch(() => undefined);
      await rm(partial, { force: true });
      throw new RegistryError('DIGEST_MISMATCH', where, `the blob's sha256 is ${got}, not the ${d.digest} its descriptor gives; nothing stored`);
    }
    await fh.sync();
  } catch (e) {
    if (e instanceof RegistryError && (e.code === 'TOO_LONG' || e.code === 'BAD_RESPONSE')) await rm(partial, { force: true });
    throw e;
  } finally {
    await fh.close().catch(() => undefined);
  }
  await store.commit(d.digest);
  return { path: final, fetched };
}
