/**
 * Names are bytes. Tar names, link targets and PAX values are decoded as UTF-8, and every byte
 * that is not part of a valid UTF-8 sequence becomes the lone surrogate U+DC80+byte (Python's
 * "surrogateescape"). Valid UTF-8 never encodes a surrogate, so the mapping is lossless:
 * `nameBytes(decodeName(b))` gives `b` back, and a manifest writer prints such a character as
 * `\xHH` (the fixtures' manifest format).
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes name bytes losslessly (see the file comment). */
export function decodeName(buf: Uint8Array, start = 0, end = buf.length): string {
  if (start >= end) return '';
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (buf[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  const b = buf instanceof Buffer ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (ascii) return b.toString('latin1', start, end);
  try {
    return utf8.decode(b.subarray(start, end));
  } catch {
    return decodeEscaped(b, start, end);
  }
}

/** Slow path: one UTF-8 sequence at a time, invalid bytes mapped to U+DC80..U+DCFF. */
function decodeEscaped(b: Buffer, start: number, end: number): string {
  let out = '';
  let i = start;
  while (i < end) {
    const c = b[i];
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    const len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len && i + len <= end) {
      try {
        out += utf8.decode(b.subarray(i, i + len));
        i += len;
        continue;
      } catch {
        /* not a valid sequence: escape the lead byte */
      }
    }
    out += String.fromCharCode(0xdc00 + c);
    i++;
  }
  return out;
}

/** The inverse of `decodeName`: U+DC80..U+DCFF become the raw byte again. */
export function nameBytes(name: string): Buffer {
  if (!/[\udc80-\udcff]/.test(name)) return Buffer.from(name, 'utf8');
  const parts: number[] = [];
  for (const ch of name) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xdc80 && cp <= 0xdcff) parts.push(cp - 0xdc00);
    else for (const byte of Buffer.from(ch, 'utf8')) parts.push(byte);
  }
  return Buffer.from(parts);
}

/** Alias of `nameBytes`. */
export const encodeName = nameBytes;

/**
 * A name as `ls`, `find`, `tree` and manifests print it (out/manifest.ts `esc`: `\\`, `\t`, `\n`
 * and `\xHH` for control bytes and bytes that are not UTF-8) back to the name itself, in the
 * form decodeName gives. Anything else after a backslash is kept as it is. The command line and
 * the shell try a path as typed first, then this decoding of it, so what they printed is accepted
 * back.
 */
export function decodePrinted(text: string): string {
  if (!text.includes('\\')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '\\' && next === '\\') {
      bytes.push(0x5c);
      i++;
      continue;
    }
    if (c === '\\' && next === 't') {
      bytes.push(0x09);
      i++;
      continue;
    }
    if (c === '\\' && next === 'n') {
      bytes.push(0x0a);
      i++;
      continue;
    }
    if (c === '\\' && next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      bytes.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
      continue;
    }
    for (const b of nameBytes(c)) bytes.push(b);
  }
  return decodeName(Buffer.from(bytes));
}
