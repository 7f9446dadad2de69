/**
 * filehandle.readableWebStream(): a WHATWG ReadableStream of the file from the descriptor's
 * position, as Node 20 makes them (lib/internal/fs/promises.js and webstreams/adapters.js):
 *
 * - default type: the chunks are ArrayBuffers of up to 64 KiB, exactly as long as each read, and
 *   one chunk is read ahead (the stream reads its first chunk as soon as it is made, the next one
 *   when that is taken), as Node's stream over the handle does;
 * - type 'bytes': a byte stream (BYOB readers allowed) that reads through the handle's read() into
 *   the reader's view, 16 KiB views when the reader brings none, nothing ahead;
 * - when the handle closes, the stream ends: a chunk read ahead is dropped and reads are done.
 *
 * Not Node's, on purpose: a failed read errors the stream (Node's default stream enqueues an
 * undefined chunk, and closing the handle during a read aborts the process).
 */
import type { Core } from '../core/core.js';

const CHUNK = 64 * 1024;
const BYTES_CHUNK = 16384;

export interface WebStreamHandle {
  readonly fd: number;
  read(buffer: ArrayBufferView, offset: number, length: number): Promise<{ bytesRead: number }>;
  once(event: 'close', listener: () => void): unknown;
}

/** A chunk read at the descriptor's position: an ArrayBuffer of what came, or null at the end. */
function readChunk(core: Core, fd: number): ArrayBuffer | null {
  const buf = new Uint8Array(CHUNK);
  const n = core.read(fd, buf, 0, CHUNK, null);
  return n === 0 ? null : buf.buffer.slice(0, n);
}

export function fileWebStream(h: WebStreamHandle, core: Core, type: unknown): ReadableStream {
  let ended = false;
  let end = () => {};
  h.once('close', () => end());
  if (type === 'bytes') {
    let controller: ReadableByteStreamController;
    let reading = false;
    end = () => {
      if (ended) return;
      ended = true;
      if (!reading) controller.close();
    };
    return new ReadableStream({
      type: 'bytes',
      autoAllocateChunkSize: BYTES_CHUNK,
      start(c) {
        controller = c;
      },
      async pull(c) {
        const view = c.byobRequest!.view!;
        reading = true;
        let bytesRead: number;
        try {
          // As Node: the view's own byteOffset is passed as the offset into it.
          ({ bytesRead } = await h.read(view, view.byteOffset, view.byteLength));
        } finally {
          reading = false;
        }
        if (ended) {
          c.close();
          c.byobRequest?.respond(0);
          return;
        }
        if (bytesRead === 0) {
          ended = true;
          c.close();
        }
        c.byobRequest!.respond(bytesRead);
      },
      cancel() {
        ended = true;
      },
    });
  }
  let ahead: ArrayBuffer | null | Error | undefined;
  let controller: ReadableStreamDefaultController<ArrayBuffer>;
  const fetchAhead = () => {
    try {
      ahead = readChunk(core, h.fd);
    } catch (e) {
      ahead = e as Error;
    }
  };
  end = () => {
    if (ended) return;
    ended = true;
    ahead = undefined;
    controller.close();
  };
  return new ReadableStream<ArrayBuffer>(
    {
      start(c) {
        controller = c;
        fetchAhead();
      },
      pull(c) {
        if (ended) return;
        const chunk = ahead;
        if (chunk instanceof Error) {
          ended = true;
          return c.error(chunk);
        }
        if (chunk === null || chunk === undefined) {
          ended = true;
          return c.close();
        }
        c.enqueue(chunk);
        fetchAhead();
      },
      cancel() {
        ended = true;
        ahead = undefined;
      },
    },
    { highWaterMark: 0 },
  );
}
