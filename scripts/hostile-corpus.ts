/**
 * The hostile-archive corpus, built from code (never hand-edited binaries), so every case is
 * reproducible and reviewable. `test/hostile-corpus.test.ts` builds it in a temp dir and checks
 * each case; `npx tsx scripts/hostile-corpus.ts [outdir]` writes it out (default test/corpus/gen/)
 * for poking at with other tools (tar -tvf, podman load, …).
 *
 * A case is layer tarballs (opened with openLayers, bottom first) or one image archive (openImage),
 * and what must happen: a typed ArchiveError with a given code, or a documented safe result.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { ArchiveErrorCode } from '../src/core/errors.js';

/** What the merged view must show after a safe load: path → 'dir' | 'file:CONTENT' | 'symlink:TARGET' | 'char' | 'absent'. */
export type Expect = Record<string, string>;

export interface Case {
  name: string;
  /** Why the result is what it is (the documentation of a "safe result"). */
  note: string;
  kind: 'layers' | 'image';
  /** Layer tarballs bottom first (kind 'layers'), or the single image archive (kind 'image'). */
  files: Buffer[];
  verify?: boolean;
  /** The error code, or the view contents after a successful load. */
  error?: ArchiveErrorCode;
  /** A regex the error message must match. */
  message?: RegExp;
  view?: Expect;
  /** A regex one of the warnings must match (safe results that are not silent). */
  warning?: RegExp;
}

// ---------------------------------------------------------------- tar building

import { tarOf, type TarItem as Item } from '../test/helpers/tar.js';

export { tarOf, type Item };

export interface RawHeader {
  name: string | Buffer;
  typeflag?: string;
  /** A number (octal) or the raw 12 bytes of the size field (e.g. base-256). */
  size?: number | Buffer;
  linkname?: string;
  mode?: number;
  /** Write this instead of the computed checksum. */
  checksum?: Buffer;
}

/** One ustar header block, byte by byte (for what tar-stream refuses to write). */
export function rawHeader(h: RawHeader): Buffer {
  const b = Buffer.alloc(512);
  const name = typeof h.name === 'string' ? Buffer.from(h.name) : h.name;
  name.copy(b, 0, 0, 100);
  const oct = (v: number, off: number, len: number): void => {
    b.write(v.toString(8).padStart(len - 1, '0') + '\0', off, 'latin1');
  };
  oct(h.mode ?? 0o644, 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  if (Buffer.isBuffer(h.size)) h.size.copy(b, 124, 0, 12);
  else oct(h.size ?? 0, 124, 12);
  oct(1_700_000_000, 136, 12);
  b.write(h.typeflag ?? '0', 156, 'latin1');
  if (h.linkname) b.write(h.linkname, 157, 'utf8');
  b.write('ustar\0' + '00', 257, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i];
  if (h.checksum) h.checksum.copy(b, 148, 0, 8);
  else b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return b;
}

const pad = (data: Buffer): Buffer => Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
const END = Buffer.alloc(1024);

/** Raw headers with their data, then the end blocks. */
export function rawTar(members: Array<{ h: RawHeader; data?: Buffer }>, end = true): Buffer {
  return Buffer.concat([...members.flatMap((m) => [rawHeader(m.h), pad(m.data ?? Buffer.alloc(0))]), end ? END : Buffer.alloc(0)]);
}

/** A GNU base-256 size field: 0x80 then the value big-endian (or 0xff… for negatives). */
export function base256(v: bigint): Buffer {
  const b = Buffer.alloc(12);
  let x = v < 0n ? (1n << 96n) + v : v;
  for (let i = 11; i >= 0; i--) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  b[0] |= 0x80;
  return b;
}

// ---------------------------------------------------------------- image building

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

/** An image document the corpus edits into malformed shapes (untyped on purpose). */
// biome-ignore lint/suspicious/noExplicitAny: the edits write what no type would allow (a string for an array, a missing field)
type Doc = Record<string, any>;

export interface OciParts {
  layers: Buffer[];
  /** Edit the documents before they are written (digests of edited documents are recomputed upward). */
  editManifest?: (m: Doc) => void;
  editConfig?: (c: Doc) => void;
  /** Rewrite the documents' JSON text (for what JSON.stringify cannot write, such as deep nesting). */
  mapConfig?: (json: string) => string;
  mapManifest?: (json: string) => string;
  /** Replace index.json outright (raw bytes). */
  index?: Buffer;
  /** Members to leave out, by path. */
  drop?: (path: string) => boolean;
  extra?: Item[];
}

/** An oci-archive in memory: oci-layout, index.json, a manifest, a config and the layer blobs. */
export async function ociArchive(p: OciParts): Promise<Buffer> {
  const config: Doc = {
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: p.layers.map((l) => sha(l)) },
    history: p.layers.map(() => ({ created_by: 'corpus' })),
  };
  p.editConfig?.(config);
  const cfg = p.mapConfig ? Buffer.from(p.mapConfig(json(config).toString())) : json(config);
  const manifest: Doc = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(cfg), size: cfg.length },
    layers: p.layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(l), size: l.length })),
  };
  p.editManifest?.(manifest);
  const mf = p.mapManifest ? Buffer.from(p.mapManifest(json(manifest).toString())) : json(manifest);
  const index =
    p.index
    ?? json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(mf), size: mf.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
    });
  const blob = (b: Buffer): Item => ({ header: { name: `blobs/sha256/${sha(b).slice(7)}`, size: b.length }, body: b });
  const items: Item[] = [
    { header: { name: 'oci-layout' }, body: '{"imageLayoutVersion":"1.0.0"}' },
    { header: { name: 'index.json' }, body: index },
    blob(mf),
    blob(cfg),
    ...p.layers.map(blob),
    ...(p.extra ?? []),
  ];
  return tarOf(items.filter((i) => !p.drop?.(i.header.name as string)));
}

/** A docker-archive in memory with a manifest.json given as raw JSON (or built from layer names). */
export async function dockerArchive(manifest: unknown, members: Item[]): Promise<Buffer> {
  return tarOf([{ header: { name: 'manifest.json' }, body: Buffer.isBuffer(manifest) ? manifest : json(manifest) }, ...members]);
}

// ---------------------------------------------------------------- zstd / gzip bombs

/**
 * A zstd frame of `blocks` RLE blocks of 128 KiB of zeros each: 4 bytes of input per 128 KiB of
 * output (64 GiB from 2 MiB). Hand-made from RFC 8878: frame header with a 128 KiB window, no
 * content size, no checksum; block header = size << 3 | type RLE (1) << 1 | last.
 */
export function zstdBomb(blocks: number): Buffer {
  const o = Buffer.alloc(6 + blocks * 4);
  o.set([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]); // magic; FHD 0 (no content size, not single segment, no checksum, no dict); window 2^17
  for (let i = 0; i < blocks; i++) {
    const hdr = (131072 << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0);
    o[6 + i * 4] = hdr & 0xff;
    o[7 + i * 4] = (hdr >> 8) & 0xff;
    o[8 + i * 4] = (hdr >> 16) & 0xff;
    o[9 + i * 4] = 0; // the byte repeated
  }
  return o;
}

/** A gzip stream of `members` concatenated gzip members of 1 MiB of zeros each (~1 KiB per MiB). */
export function gzipBomb(members: number): Buffer {
  const one = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
  return Buffer.concat(Array.from({ length: members }, () => one));
}

// ---------------------------------------------------------------- the cases

export async function buildCorpus(): Promise<Case[]> {
  const cases: Case[] = [];
  const layer = (name: string, note: string, files: Buffer[], rest: Partial<Case>): void => {
    cases.push({ name, note, kind: 'layers', files, ...rest });
  };
  const file = (name: string, body = 'x', extra: Record<string, unknown> = {}): Item => ({ header: { name, size: Buffer.byteLength(body), ...extra }, body });
  const dir = (name: string): Item => ({ header: { name, type: 'directory', mode: 0o755 } });
  const sym = (name: string, linkname: string): Item => ({ header: { name, type: 'symlink', linkname } });
  const hard = (name: string, linkname: string): Item => ({ header: { name, type: 'link', linkname } });

  // --- path traversal
  for (const [n, p] of [
    ['dotdot', '../evil'],
    ['dot-slash-dotdot', './../evil'],
    ['inner-dotdot', 'a/b/../../../evil'],
    ['absolute-dotdot', '/../evil'],
  ]) {
    layer(`traversal-${n}`, `${p} climbs out of the layer root: refused`, [await tarOf([file(p)])], { error: 'UNSAFE_PATH', message: /climbs out of the layer root/ });
  }
  layer('traversal-absolute', 'an absolute name is read relative to the layer root, with a warning (as GNU tar, Docker)', [await tarOf([file('/etc/passwd', 'root:x:0:0')])], {
    view: { '/etc/passwd': 'file:root:x:0:0' },
    warning: /is absolute; read as "etc\/passwd"/,
  });
  layer('traversal-pax-path', 'a PAX path record with ../ is checked like a header name', [await tarOf([file('innocent', 'x', { pax: { path: '../../evil' } })])], { error: 'UNSAFE_PATH' });
  layer('pax-path-nul', 'a PAX path holding a NUL byte: names end at NUL everywhere else, so it is refused', [await tarOf([file('innocent', 'x', { pax: { path: 'a\0/../../evil' } })])], {
    error: 'BAD_HEADER',
    message: /PAX path holds a NUL byte/,
  });
  layer(
    'pax-linkpath-nul',
    'a PAX linkpath holding a NUL byte is refused as a path with NUL is',
    [await tarOf([sym('l', 'x'), { header: { name: 'l2', type: 'symlink', linkname: 'x', pax: { linkpath: 'safe\0/../../etc/passwd' } } }])],
    { error: 'BAD_HEADER', message: /PAX linkpath holds a NUL byte/ },
  );

  // --- symlinks then files through them
  const symNote =
    'a symlink "a" then "a/passwd" in the same layer: the layer builder replaces the non-directory parent with an implicit directory (as extracting a tar does not, but as overlayfs shows a directory over a non-directory), so the file lands INSIDE the image as /a/passwd and the symlink is gone; nothing is ever written to the host';
  layer('symlink-then-file', symNote, [await tarOf([sym('a', '/etc'), file('a/passwd', 'pwned')])], { view: { '/a': 'dir', '/a/passwd': 'file:pwned', '/etc/passwd': 'absent', '/etc': 'absent' } });
  layer('symlink-dotdot-then-file', 'the same with a relative target climbing out (a -> ../../..)', [await tarOf([sym('a', '../../..'), file('a/x', 'pwned')])], {
    view: { '/a': 'dir', '/a/x': 'file:pwned', '/x': 'absent' },
  });
  layer(
    'symlink-then-file-across-layers',
    'a -> /etc in layer 1, a/passwd in layer 2: the directory of layer 2 hides the lower symlink (OVL-1), the file is /a/passwd',
    [await tarOf([dir('etc/'), file('etc/passwd', 'orig'), sym('a', '/etc')]), await tarOf([file('a/passwd', 'pwned')])],
    { view: { '/a': 'dir', '/a/passwd': 'file:pwned', '/etc/passwd': 'file:orig' } },
  );
  layer(
    'symlink-out-kept-as-link',
    'a symlink to /etc/passwd or ../../../etc/passwd is kept as a link; reading through it resolves inside the view root',
    [await tarOf([sym('abs', '/etc/passwd'), sym('rel', '../../../etc/passwd')])],
    { view: { '/abs': 'symlink:/etc/passwd', '/rel': 'symlink:../../../etc/passwd', '/etc': 'absent' } },
  );
  layer(
    'hardlink-through-symlink',
    'a hard link names a literal path; a path through a symlink names nothing',
    [await tarOf([dir('etc/'), file('etc/passwd', 'orig'), sym('a', 'etc'), hard('b', 'a/passwd')])],
    { error: 'BAD_LINK' },
  );

  // --- hard links
  layer('hardlink-dotdot', 'a hard link climbing out with ..', [await tarOf([hard('l', '../../etc/shadow')])], { error: 'UNSAFE_PATH' });
  layer('hardlink-absolute-missing', 'an absolute hard-link target is read relative to the root: /etc/shadow is not in the image', [await tarOf([hard('l', '/etc/shadow')])], {
    error: 'BAD_LINK',
    warning: /is absolute/,
  });
  layer('hardlink-to-nothing', 'a hard link to a name no layer has', [await tarOf([hard('l', 'missing')])], { error: 'BAD_LINK', message: /does not exist/ });
  layer('hardlink-to-self', 'a hard link to itself', [await tarOf([hard('l', 'l')])], { error: 'BAD_LINK' });
  layer('hardlink-cycle', 'two hard links to each other', [await tarOf([hard('a', 'b'), hard('b', 'a')])], { error: 'BAD_LINK' });
  layer('hardlink-to-dir', 'a hard link to a directory', [await tarOf([dir('d/'), hard('l', 'd')])], { error: 'BAD_LINK', message: /directory/ });
  layer('hardlink-to-root', 'a hard link to the layer root', [await tarOf([hard('l', './')])], { error: 'BAD_LINK' });
  layer(
    'hardlink-to-lower-whiteout',
    "a hard link to a lower file that a whiteout of the same layer deletes: the link binds to the lower file (OCI-11; a whiteout never hides an entry of its own layer, OCI-6), the old name goes. Docker would refuse (it extracts in order); the result is safe: the data is the image's own",
    [await tarOf([file('f', 'low')]), await tarOf([file('.wh.f', ''), hard('l', 'f')])],
    { view: { '/f': 'absent', '/l': 'file:low' } },
  );

  // --- duplicates
  layer('duplicate-file', 'a path given twice: the last wins, with a warning (OCI-10)', [await tarOf([file('f', 'one'), file('f', 'two')])], {
    view: { '/f': 'file:two' },
    warning: /duplicate entry "f"/,
  });
  layer('duplicate-file-then-dir', 'a file then a directory of the same name: the directory wins', [await tarOf([file('x', 'one'), dir('x/'), file('x/y', 'y')])], {
    view: { '/x': 'dir', '/x/y': 'file:y' },
  });
  layer('duplicate-dir-then-file', 'a directory with contents, then a file of the same name: the file wins', [await tarOf([dir('x/'), file('x/y', 'y'), file('x', 'one')])], {
    view: { '/x': 'file:one', '/x/y': 'absent' },
  });

  // --- whiteouts
  layer('whiteout-of-missing', 'a whiteout of a name no layer has: nothing to delete, no entry', [await tarOf([file('.wh.nothing', '')])], {
    view: { '/nothing': 'absent', '/.wh.nothing': 'absent' },
  });
  layer('whiteout-bare', "a bare '.wh.' names nothing", [await tarOf([file('.wh.', '')])], { error: 'BAD_WHITEOUT' });
  layer('whiteout-bare-in-dir', 'dir/.wh.', [await tarOf([dir('d/'), file('d/.wh.', '')])], { error: 'BAD_WHITEOUT' });
  layer('whiteout-dotdot', "'.wh...' would delete the parent", [await tarOf([dir('d/'), file('d/.wh...', '')])], { error: 'BAD_WHITEOUT' });
  layer(
    'whiteout-in-root',
    'a whiteout at the root deletes a top-level directory of the layer below',
    [await tarOf([dir('etc/'), file('etc/passwd', 'x'), file('keep', 'k')]), await tarOf([file('.wh.etc', '')])],
    { view: { '/etc': 'absent', '/etc/passwd': 'absent', '/keep': 'file:k' } },
  );
  layer(
    'opaque-root',
    'an opaque marker at the root of layer 2 hides everything below (a safe, if drastic, result)',
    [await tarOf([file('low', 'l')]), await tarOf([file('.wh..wh..opq', ''), file('new', 'n')])],
    { view: { '/low': 'absent', '/new': 'file:n' } },
  );
  layer(
    'whiteout-device',
    'a character device named like a whiteout is a whiteout: its type means nothing (OCI-5), no device appears',
    [await tarOf([file('foo', 'f')]), await tarOf([{ header: { name: '.wh.foo', type: 'character-device', devmajor: 1, devminor: 3 } }])],
    { view: { '/foo': 'absent', '/.wh.foo': 'absent' } },
  );
  layer(
    'overlay-whiteout-device',
    "a 0:0 character device is overlayfs's own whiteout, but in a layer tar it is just a device: kept, it deletes nothing",
    [await tarOf([file('foo', 'f')]), await tarOf([{ header: { name: 'foo', type: 'character-device', devmajor: 0, devminor: 0 } }])],
    { view: { '/foo': 'char' } },
  );
  layer('whiteout-aufs-meta', "'.wh..wh.plnk' (aufs metadata) is ignored with a warning (OCI-8)", [await tarOf([dir('.wh..wh.plnk/'), file('.wh..wh.plnk/1.2', 'x'), file('ok', 'o')])], {
    view: { '/ok': 'file:o' },
    warning: /aufs metadata/,
  });

  // --- header damage
  const okTar = await tarOf([file('a', 'aaa'), file('b', 'bbb')]);
  const flipped = Buffer.from(okTar);
  flipped[512 * 2 + 1] ^= 0x40; // second header's name
  layer('bad-checksum-flip', 'one flipped bit in a header name', [flipped], { error: 'BAD_CHECKSUM' });
  layer('bad-checksum-garbage', 'a checksum field that is not octal', [rawTar([{ h: { name: 'f', checksum: Buffer.from('zzzzzzz\0') } }])], { error: 'BAD_CHECKSUM', message: /unreadable value/ });
  layer('size-negative-base256', 'a negative GNU base-256 size', [rawTar([{ h: { name: 'f', size: base256(-1n) } }])], { error: 'BAD_HEADER', message: /negative/ });
  layer('size-huge-base256', 'a 2^52-byte size in base-256: more than is there', [rawTar([{ h: { name: 'f', size: base256(1n << 52n) } }])], { error: 'TRUNCATED' });
  layer('size-unsafe-base256', 'a size beyond 2^53 in base-256', [rawTar([{ h: { name: 'f', size: base256(1n << 80n) } }])], { error: 'BAD_HEADER', message: /safe integer/ });
  layer('size-huge-octal', 'an 8 GiB octal size', [rawTar([{ h: { name: 'f', size: 0o77777777777 } }])], { error: 'TRUNCATED' });
  layer('size-not-octal', 'a size field with a 9 in it', [rawTar([{ h: { name: 'f', size: Buffer.from('00000000009\0') } }])], { error: 'BAD_HEADER' });
  layer('pax-size-huge', 'a PAX size beyond 2^53', [await tarOf([file('f', 'x', { pax: { size: '99999999999999999999' } })])], { error: 'BAD_HEADER' });
  layer('pax-size-negative', 'a PAX size of -1', [await tarOf([file('f', 'x', { pax: { size: '-1' } })])], { error: 'BAD_HEADER' });
  layer('pax-malformed', 'a PAX record whose length lies', [rawTar([{ h: { name: 'p', typeflag: 'x', size: 12 }, data: Buffer.from('99 path=abc\n') }, { h: { name: 'f' } }])], {
    error: 'BAD_HEADER',
  });
  layer('pax-then-end', 'a PAX header followed by the end of the archive', [rawTar([{ h: { name: 'p', typeflag: 'x', size: 12 }, data: Buffer.from('12 path=ab\n\0') }])], { error: 'BAD_HEADER' });
  layer('pax-huge-record', 'a PAX header that declares 1 GiB: refused before it is read', [rawTar([{ h: { name: 'p', typeflag: 'x', size: 1024 ** 3 } }])], { error: 'LIMIT' });
  layer('gnu-sparse', 'GNU sparse members are refused, not misread', [rawTar([{ h: { name: 's', typeflag: 'S' } }])], { error: 'BAD_HEADER' });
  layer(
    'non-utf8-name',
    'names that are not UTF-8 are kept as bytes (surrogate escapes); they load',
    [rawTar([{ h: { name: Buffer.from([0x66, 0xff, 0xfe, 0x2e, 0x74]), size: 2 }, data: Buffer.from('hi') }])],
    { view: { '/f\udcff\udcfe.t': 'file:hi' } },
  );
  layer('non-utf8-dotdot', 'invalid bytes do not hide a ..', [rawTar([{ h: { name: Buffer.from([0x2e, 0x2e, 0x2f, 0xc0, 0xae]) } }])], { error: 'UNSAFE_PATH' });
  layer('root-as-file', 'an entry "./" that is a regular file', [rawTar([{ h: { name: './', typeflag: '0' } }])], { error: 'UNSAFE_PATH' });
  layer('empty-name', 'an entry with an empty name is the root; a regular file there is refused', [rawTar([{ h: { name: '', typeflag: '0' } }])], { error: 'UNSAFE_PATH' });

  // --- truncation at every block boundary of a small real layer
  const small = await tarOf([dir('etc/'), file('etc/motd', 'hello\n'), file('big', 'B'.repeat(1500)), sym('link', 'etc/motd'), hard('hl', 'etc/motd'), file('z', 'z')]);
  for (let cut = 0; cut < small.length; cut += 512) {
    for (const off of [0, 1]) {
      const at = cut + off;
      if (at === 0 || at >= small.length) continue;
      layer(`truncated-${at}`, 'a layer cut short: TRUNCATED, or (cut right after a whole member) the members before the cut, with a warning', [small.subarray(0, at)], {});
    }
  }
  const gz = gzipSync(small);
  for (const at of [1, 2, 10, 20, gz.length >> 1, gz.length - 8, gz.length - 1]) {
    layer(`truncated-gzip-${at}`, 'a gzip layer cut short', [gz.subarray(0, at)], { error: at < 2 ? 'UNKNOWN_COMPRESSION' : 'TRUNCATED' });
  }

  // --- bombs (the limit tests use small limits; here the defaults must still refuse cleanly)
  layer('gzip-garbage', 'gzip magic followed by garbage', [Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(600, 0x41)])], { error: 'BAD_COMPRESSION' });
  layer('zstd-garbage', 'zstd magic followed by garbage', [Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(600, 0xff)])], { error: 'BAD_COMPRESSION' });

  // --- image archives: manifests and indexes
  const img = (name: string, note: string, data: Buffer, rest: Partial<Case>): void => {
    cases.push({ name, note, kind: 'image', files: [data], ...rest });
  };
  const l1 = await tarOf([file('hello', 'world')]);
  const mfLie = json({ schemaVersion: 2, config: { digest: `sha256:${'1'.repeat(64)}`, size: 2 }, layers: [] });
  img('oci-ok', 'the baseline the other image cases mutate', await ociArchive({ layers: [l1] }), { view: { '/hello': 'file:world' } });
  img('oci-index-not-json', 'index.json is not JSON', await ociArchive({ layers: [l1], index: Buffer.from('{"manifests": [') }), { error: 'BAD_MANIFEST', message: /not valid JSON/ });
  img('oci-index-null', 'index.json is null', await ociArchive({ layers: [l1], index: Buffer.from('null') }), { error: 'BAD_MANIFEST' });
  img('oci-index-manifests-object', 'index.json manifests is an object', await ociArchive({ layers: [l1], index: Buffer.from('{"manifests":{"0":1}}') }), { error: 'BAD_MANIFEST' });
  img('oci-index-digest-traversal', 'a descriptor digest that is a path', await ociArchive({ layers: [l1], index: json({ manifests: [{ digest: 'sha256:../../../etc/passwd', size: 1 }] }) }), {
    error: 'BAD_MANIFEST',
  });
  img(
    'oci-index-size-lie',
    'a descriptor size that lies',
    await ociArchive({
      layers: [l1],
      editManifest: (m) => {
        m.layers[0].size += 1;
      },
    }),
    { error: 'DIGEST_MISMATCH' },
  );
  img('oci-missing-layer', 'the manifest points at a layer blob the archive lacks', await ociArchive({ layers: [l1], drop: (p) => p === `blobs/sha256/${sha(l1).slice(7)}` }), {
    error: 'MISSING_BLOB',
  });
  img(
    'oci-missing-config',
    'the manifest points at a config the archive lacks',
    await ociArchive({
      layers: [l1],
      editManifest: (m) => {
        m.config.digest = `sha256:${'0'.repeat(64)}`;
      },
    }),
    { error: 'MISSING_BLOB' },
  );
  img(
    'oci-media-type-lie-gzip',
    'a plain tar layer whose media type says gzip: read by content, with a warning (OCI-2)',
    await ociArchive({
      layers: [l1],
      editManifest: (m) => {
        m.layers[0].mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip';
      },
    }),
    { view: { '/hello': 'file:world' }, warning: /says gzip, the content is none/ },
  );
  img(
    'oci-media-type-lie-index',
    'an image manifest whose descriptor says it is an index',
    await ociArchive({
      layers: [l1],
      index: json({ manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha(mfLie), size: mfLie.length }] }),
      extra: [{ header: { name: `blobs/sha256/${sha(mfLie).slice(7)}`, size: mfLie.length }, body: mfLie }],
    }),
    { error: 'BAD_MANIFEST', message: /manifests must be an array/ },
  );
  img(
    'oci-layers-not-array',
    'manifest layers is a string',
    await ociArchive({
      layers: [l1],
      editManifest: (m) => {
        m.layers = 'nope';
      },
    }),
    { error: 'BAD_MANIFEST' },
  );
  img(
    'oci-config-no-rootfs',
    'the config has no rootfs',
    await ociArchive({
      layers: [l1],
      editConfig: (c) => {
        delete c.rootfs;
      },
    }),
    { error: 'BAD_MANIFEST' },
  );
  img(
    'oci-diff-id-lie',
    'config.rootfs.diff_ids disagrees with the layer',
    await ociArchive({
      layers: [l1],
      editConfig: (c) => {
        c.rootfs.diff_ids = [`sha256:${'2'.repeat(64)}`];
      },
    }),
    { error: 'DIGEST_MISMATCH' },
  );
  img('oci-layer-not-tar', 'a layer blob of random bytes', await ociArchive({ layers: [Buffer.from('\x01\x02 this is not a tar at all'.repeat(40))], editConfig: () => {} }), {
    error: 'UNKNOWN_COMPRESSION',
  });
  const selfIndex = json({ manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${'3'.repeat(64)}`, size: 10 }] });
  img(
    'oci-index-loop',
    'an index that names itself (verify: false, so digests are not checked): nesting limit',
    await ociArchive({ layers: [l1], index: selfIndex, extra: [{ header: { name: `blobs/sha256/${'3'.repeat(64)}`, size: selfIndex.length }, body: selfIndex }] }),
    { verify: false, error: 'BAD_MANIFEST', message: /nested more than/ },
  );
  const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
  img('oci-config-deep', 'a config nested 5000 levels deep: LIMIT before anything recurses into it', await ociArchive({ layers: [l1], mapConfig: (s) => s.replace(/}$/, `,"deep":${deep(5000)}}`) }), {
    error: 'LIMIT',
    message: /maxJsonDepth/,
  });
  img('oci-manifest-deep', 'a manifest nested 5000 levels deep', await ociArchive({ layers: [l1], mapManifest: (s) => s.replace(/}$/, `,"deep":${deep(5000)}}`) }), {
    error: 'LIMIT',
    message: /maxJsonDepth/,
  });
  img('oci-no-index', 'an oci-layout file but no index.json', await ociArchive({ layers: [l1], drop: (p) => p === 'index.json' }), { error: 'NOT_AN_IMAGE' });

  const dl = await tarOf([file('d', 'docker')]);
  const dcfg = json({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(dl)] }, history: [{}] });
  const dmembers: Item[] = [
    { header: { name: 'config.json', size: dcfg.length }, body: dcfg },
    { header: { name: 'layer.tar', size: dl.length }, body: dl },
  ];
  img('docker-ok', 'the docker-archive baseline', await dockerArchive([{ Config: 'config.json', RepoTags: ['x:1'], Layers: ['layer.tar'] }], dmembers), { view: { '/d': 'file:docker' } });
  img('docker-manifest-not-json', 'manifest.json is not JSON', await dockerArchive(Buffer.from('[{'), dmembers), { error: 'BAD_MANIFEST' });
  img('docker-manifest-object', 'manifest.json is an object', await dockerArchive({ Config: 'config.json' }, dmembers), { error: 'BAD_MANIFEST' });
  img('docker-manifest-null-item', 'manifest.json [null]', await dockerArchive([null], dmembers), { error: 'BAD_MANIFEST' });
  img('docker-manifest-deep', 'manifest.json nested 5000 levels deep', await dockerArchive(Buffer.from(deep(5000)), dmembers), { error: 'LIMIT', message: /maxJsonDepth/ });
  img('docker-manifest-empty', 'manifest.json []', await dockerArchive([], dmembers), { error: 'NO_SUCH_IMAGE' });
  img('docker-layer-traversal', 'a layer path climbing out of the archive', await dockerArchive([{ Config: 'config.json', Layers: ['../../../etc/passwd'] }], dmembers), { error: 'MISSING_BLOB' });
  img('docker-config-absolute', 'an absolute config path names a member, never a host file', await dockerArchive([{ Config: '/etc/passwd', Layers: ['layer.tar'] }], dmembers), {
    error: 'MISSING_BLOB',
  });
  img(
    'docker-layer-symlink-to-host',
    'a layer member that is a symlink to /etc/passwd: followed inside the archive only',
    await dockerArchive([{ Config: 'config.json', Layers: ['evil.tar'] }], [...dmembers, sym('evil.tar', '/etc/passwd')]),
    { error: 'MISSING_BLOB' },
  );
  img(
    'docker-layer-symlink-cycle',
    'layer members that are symlinks to each other',
    await dockerArchive([{ Config: 'config.json', Layers: ['a.tar'] }], [...dmembers, sym('a.tar', 'b.tar'), sym('b.tar', 'a.tar')]),
    { error: 'BAD_MANIFEST', message: /cycle/ },
  );
  img('docker-layer-is-dir', 'a layer path that is a directory', await dockerArchive([{ Config: 'config.json', Layers: ['dir'] }], [...dmembers, dir('dir/')]), { error: 'MISSING_BLOB' });
  img(
    'docker-diff-ids-count',
    'one layer, two diff_ids',
    await dockerArchive(
      [{ Config: 'c2.json', Layers: ['layer.tar'] }],
      [...dmembers, { header: { name: 'c2.json' }, body: json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(dl), sha(dl)] } }) }],
    ),
    { error: 'BAD_MANIFEST' },
  );
  // Fuzzer finding (TypeError in readBytes): manifest.json present as a member but not a regular file.
  img('docker-manifest-is-dir', 'manifest.json is a directory (fuzzer finding)', await tarOf([dir('manifest.json/'), ...dmembers]), { error: 'BAD_MANIFEST', message: /not a regular file/ });
  img('docker-manifest-dangling-link', 'manifest.json is a symlink to nothing (fuzzer finding)', await tarOf([sym('manifest.json', 'nowhere.json'), ...dmembers]), { error: 'BAD_MANIFEST' });
  img('docker-manifest-hardlink-loop', 'manifest.json is a hard link to itself', await tarOf([hard('manifest.json', 'manifest.json'), ...dmembers]), { error: 'BAD_MANIFEST' });
  img('outer-truncated', 'the outer archive cut inside a member', (await dockerArchive([{ Config: 'config.json', Layers: ['layer.tar'] }], dmembers)).subarray(0, 1000), { error: 'TRUNCATED' });
  img('outer-garbage', 'random bytes', Buffer.from('\x00\x01garbage'.repeat(100)), { error: 'NOT_AN_IMAGE' });
  img('outer-empty', 'an empty file', Buffer.alloc(0), { error: 'NOT_AN_IMAGE' });
  return cases;
}

/** Writes the corpus as files (<name>.<n>.tar plus index.json of the expectations). */
export async function writeCorpus(out: string): Promise<number> {
  mkdirSync(out, { recursive: true });
  const cases = await buildCorpus();
  for (const c of cases) for (const [i, f] of c.files.entries()) writeFileSync(join(out, `${c.name}.${i + 1}.tar`), f);
  writeFileSync(
    join(out, 'index.json'),
    JSON.stringify(
      cases.map(({ files, message, warning, ...c }) => ({ ...c, files: files.length, message: message?.source, warning: warning?.source })),
      null,
      2,
    ),
  );
  return cases.length;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = process.argv[2] ?? 'test/corpus/gen';
  writeCorpus(out).then((n) => console.log(`${n} cases written to ${out}`));
}
