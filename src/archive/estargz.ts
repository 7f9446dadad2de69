/**
 * eStargz layers (containerd/stargz-snapshotter's estargz, `ctr-remote image convert --estargz`)
 * read through their table of contents, so that listing a layer costs its TOC and reading a file
 * costs that file's gzip members, never a pass over the blob. Format only: the blob is any
 * ByteSource (the registry's lazy view hands one that makes one Range request per read).
 *
 * The format: the blob is an ordinary gzip stream of the layer tar (any gunzip gets the tar, its
 * sha256 is the diff_id), made of many gzip members: each regular file's data (each chunk of a
 * large one) starts a member of its own, so it can be inflated from its TOC offset; its padding and
 * the next headers follow in the same member. The tar's last member is `stargz.index.json`, the
 * TOC (toc.ts), alone in a member; then a 51-byte footer, an empty gzip member whose header's extra
 * field (subfield `SG`) holds the TOC member's offset as 16 hex digits and `STARGZ`. The layer
 * descriptor's annotation `containerd.io/snapshot/stargz/toc.digest` is the sha256 of the TOC JSON.
 *
 * What this way of reading checks, and what it cannot:
 * - the TOC against the annotation (the manifest is verified by digest, so the TOC is as
 *   trustworthy as the manifest) before any of it is used; a layer without the annotation is not
 *   read this way (it is read whole, as gzip);
 * - each file's data against its TOC digest and size before any byte of it is handed out;
 * - NOT the blob's digest or the layer's diff_id (both need every byte), nor the tar headers
 *   between the members: a blob whose tar says something else than its TOC is read as the TOC
 *   says. A pull (which fetches the blob whole) checks both.
 * The tar's own `stargz.index.json` member (and the `.prefetch.landmark` or
 * `.no.prefetch.landmark` file the TOC lists) are files of the layer, as any gunzip and tar show
 * them, and as podman's `image mount` of such a layer does.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { ArchiveError } from '../core/errors.js';
import { BufferSource, type ByteSource } from '../source.js';
import { Budget, formatBytes, limitError } from './limits.js';
import { indexTar, memberContent, type TarMember } from './tar-index.js';
import { DIGEST, parseToc, readExactly, type FrameDecoder, type TocMember, type TocOptions } from './toc.js';

export const TOC_DIGEST = 'containerd.io/snapshot/stargz/toc.digest';
/** The footer: gzip header with a 26-byte extra field, an empty deflate block, the trailer. */
export const FOOTER_SIZE = 51;
const TOC_NAME = 'stargz.index.json';
/** Bytes a file's members may decode to past its data (padding, the next tar headers). */
const TRAILING_MAX = 32 << 20;

/** The TOC digest an eStargz layer's descriptor names; undefined for any other layer. */
export function estargzTocDigest(annotations: Record<string, string> | undefined, opts: TocOptions): string | undefined {
  const d = annotations?.[TOC_DIGEST];
  if (d === undefined) return undefined;
  if (!DIGEST.test(d)) throw new ArchiveError('BAD_MANIFEST', opts.file, `${opts.context ?? ''}${TOC_DIGEST} is ${JSON.stringify(d)}, expected "sha256:" and 64 hex digits`);
  return d;
}

/**
 * The TOC member's offset from the footer. Rules: the last 51 bytes are a gzip member with FEXTRA
 * whose extra field is exactly one `SG` subfield of 22 bytes: 16 hex digits and `STARGZ`; the
 * offset lies before the footer (BAD_HEADER otherwise).
 */
export function footerOffset(footer: Buffer, blobSize: number, opts: TocOptions): number {
  const bad = (problem: string): never => {
    throw new ArchiveError('BAD_HEADER', opts.file, `${opts.context ?? ''}eStargz footer: ${problem}`);
  };
  if (footer.length !== FOOTER_SIZE || footer[0] !== 0x1f || footer[1] !== 0x8b || footer[2] !== 8 || (footer[3]! & 4) === 0) bad('the last 51 bytes are not a gzip header with an extra field');
  if (footer.readUInt16LE(10) !== 26 || footer.toString('latin1', 12, 14) !== 'SG' || footer.readUInt16LE(14) !== 22) bad('its extra field is not one 22-byte "SG" subfield');
  const text = footer.toString('latin1', 16, 38);
  if (!/^[0-9a-f]{16}STARGZ$/.test(text)) bad(`its extra field says ${JSON.stringify(text)}, expected 16 hex digits and "STARGZ"`);
  const offset = Number.parseInt(text.slice(0, 16), 16);
  if (!(offset < blobSize - FOOTER_SIZE)) bad(`the TOC offset ${offset} is not before the footer of the ${blobSize}-byte blob`);
  return offset;
}

export interface EstargzToc {
  /** The TOC's members, then the tar's own stargz.index.json member (with its JSON as data). */
  members: Array<TocMember & { content?: ByteSource }>;
}

/**
 * Reads and checks the TOC. Rules, in order:
 * - one read of the footer, then one of the TOC member [offset, blob size - 51);
 * - the member inflates to at most limits.maxJsonBytes and 64 KiB (LIMIT), a tar whose only
 *   member is the file `stargz.index.json`;
 * - that JSON's sha256 must be the annotation's (DIGEST_MISMATCH, expected and found) BEFORE it
 *   is parsed: nothing of an unverified TOC is used;
 * - its entries follow toc.ts's rules, each file's data before the TOC member.
 */
export function readEstargzToc(blob: ByteSource, tocDigest: string, opts: TocOptions): EstargzToc {
  const ctx = opts.context ?? '';
  const budget = opts.budget ?? new Budget();
  const limits = budget.limits;
  if (blob.size <= FOOTER_SIZE) throw new ArchiveError('TRUNCATED', opts.file, `${ctx}an eStargz layer of ${blob.size} bytes has no room for its ${FOOTER_SIZE}-byte footer`);
  const offset = footerOffset(readExactly(blob, blob.size - FOOTER_SIZE, FOOTER_SIZE, opts, 'eStargz footer'), blob.size, opts);
  const compressed = readExactly(blob, offset, blob.size - FOOTER_SIZE - offset, opts, 'eStargz TOC');
  const max = limits.maxJsonBytes + (64 << 10);
  let tar: Buffer;
  try {
    tar = gunzipSync(compressed, { maxOutputLength: max });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw limitError(opts.file, ctx, `the eStargz TOC inflates to more than ${formatBytes(max)}; the limit for one JSON document is ${formatBytes(limits.maxJsonBytes)}`, 'maxJsonBytes');
    }
    throw new ArchiveError('BAD_HEADER', opts.file, `${ctx}eStargz TOC at ${offset}: not gzip data (${(e as Error).message})`);
  }
  const src = new BufferSource(tar);
  const own = indexTar(src, { file: opts.file, context: `${ctx}eStargz TOC: ` });
  if (own.length !== 1 || own[0]!.name !== TOC_NAME || own[0]!.type !== 'file') {
    throw new ArchiveError('BAD_HEADER', opts.file, `${ctx}eStargz TOC at ${offset}: a tar of ${JSON.stringify(own.map((m) => m.name))}, expected only ${TOC_NAME}`);
  }
  const content = memberContent(src, own[0]!);
  const json = tar.subarray(own[0]!.dataOffset, own[0]!.dataOffset + own[0]!.size);
  const found = `sha256:${createHash('sha256').update(json).digest('hex')}`;
  if (found !== tocDigest) throw new ArchiveError('DIGEST_MISMATCH', opts.file, `${ctx}eStargz TOC at ${offset}: sha256 is ${found}, the ${TOC_DIGEST} annotation is ${tocDigest}`);
  if (json.length > limits.maxJsonBytes) {
    throw limitError(opts.file, ctx, `the eStargz TOC is ${formatBytes(json.length)}; the limit for one JSON document is ${formatBytes(limits.maxJsonBytes)}`, 'maxJsonBytes');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(json.toString('utf8'));
  } catch (e) {
    throw new ArchiveError('BAD_HEADER', opts.file, `${ctx}eStargz TOC: not JSON (${(e as Error).message})`);
  }
  const members: EstargzToc['members'] = parseToc(doc, { ...opts, budget }, 'eStargz TOC', offset, false);
  const m: TarMember = own[0]!;
  members.push({ member: m, content });
  return { members };
}

/** An eStargz file's gzip members inflated (its data, then padding and headers, cut off). */
export function gzipMembers(opts: TocOptions, size: number): FrameDecoder {
  return {
    trailing: true,
    decode: (input, sink, what) => {
      const max = size + TRAILING_MAX;
      try {
        sink(gunzipSync(input, { maxOutputLength: max }));
      } catch (e) {
        if (e instanceof ArchiveError) throw e;
        const why = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? `inflates to more than ${formatBytes(max)}` : `is not gzip data (${(e as Error).message})`;
        throw new ArchiveError('DIGEST_MISMATCH', opts.file, `${opts.context ?? ''}${what} ${why}`);
      }
    },
  };
}
