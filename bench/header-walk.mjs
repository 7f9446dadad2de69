// @ts-check
/**
 * The floor of indexing: read each 512-byte header and seek over the data. Plain JavaScript so that
 * bench/load.ts (in process, warm) and bench/load-child.mjs (a fresh process, cold, as layerfs's own
 * open is measured) run the very same function.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/**
 * @param {string} path
 * @returns {number} the count of headers (PAX records included)
 */
export function headerWalk(path) {
  const fd = openSync(path, 'r');
  try {
    const h = Buffer.alloc(512);
    let pos = 0;
    let n = 0;
    for (;;) {
      if (readSync(fd, h, 0, 512, pos) < 512) break;
      if (h[0] === 0) break; // end of archive (a zero block)
      let size = 0;
      if (h[124] & 0x80) {
        for (let i = 125; i < 136; i++) size = size * 256 + h[i];
      } else {
        for (let i = 124; i < 136; i++) {
          const c = h[i];
          if (c >= 48 && c <= 55) size = size * 8 + (c - 48);
          else if (size || c === 0) break;
        }
      }
      n++;
      pos += 512 + Math.ceil(size / 512) * 512;
    }
    return n;
  } finally {
    closeSync(fd);
  }
}
