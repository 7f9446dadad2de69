/**
 * The framing of every open-cache file: one header line, then the payload.
 *   layerfs-cache 1 <kind> <payload bytes> <sha256 of the payload, hex>\n<payload>
 * Rule: a file whose header, length or checksum does not match is corrupt (a torn write, a flipped
 * byte, a file of another version): the reader reports it as such and the caller rebuilds it, never
 * trusts it. Files are written whole beside their target and renamed over it (atomic.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../core/atomic.js';

const MAGIC = 'layerfs-cache';
const VERSION = 1;

export type RecordKind = 'layer' | 'location';

export function frame(kind: RecordKind, payload: Buffer): Buffer {
  const sum = createHash('sha256').update(payload).digest('hex');
  return Buffer.concat([Buffer.from(`${MAGIC} ${VERSION} ${kind} ${payload.length} ${sum}\n`), payload]);
}

/** The payload of `bytes`, or a sentence saying why it cannot be trusted. */
export function unframe(kind: RecordKind, bytes: Buffer): { payload: Buffer } | { corrupt: string } {
  const nl = bytes.indexOf(0x0a);
  if (nl < 0 || nl > 200) return { corrupt: 'no header line' };
  const [magic, version, k, len, sum, ...rest] = bytes.subarray(0, nl).toString('latin1').split(' ');
  if (magic !== MAGIC || rest.length > 0) return { corrupt: 'not a layerfs cache file' };
  if (version !== String(VERSION)) return { corrupt: `version ${version}, expected ${VERSION}` };
  if (k !== kind) return { corrupt: `a ${k} record where a ${kind} record was expected` };
  const payload = bytes.subarray(nl + 1);
  if (String(payload.length) !== len) return { corrupt: `${payload.length} payload bytes, the header says ${len}` };
  if (createHash('sha256').update(payload).digest('hex') !== sum) return { corrupt: 'the payload does not match its checksum' };
  return { payload };
}

/** The JSON record at `path`: undefined when absent, `{ corrupt }` when it cannot be trusted. */
export function readRecord<T>(kind: RecordKind, path: string): { value: T } | { corrupt: string } | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { corrupt: (e as Error).message };
  }
  const r = unframe(kind, bytes);
  if ('corrupt' in r) return r;
  try {
    return { value: JSON.parse(r.payload.toString('utf8')) as T };
  } catch (e) {
    return { corrupt: `the payload is not JSON (${(e as Error).message})` };
  }
}

export function writeRecord(kind: RecordKind, path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, frame(kind, Buffer.from(JSON.stringify(value))));
}
