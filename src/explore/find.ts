/**
 * `layerfs find`: regular files of a view, filtered by size and name, largest first (then by
 * path bytes).
 *
 * Rules: `--larger-than SIZE` keeps files strictly larger than SIZE; `--name GLOB` matches the
 * base name, or the whole path when the glob holds a '/' (`*` and `?` never cross '/', `[...]`
 * is a character class, `**` crosses directories). `type` picks another kind of entry (manifest
 * letters: d, l, c, b, p, s), or `any` for every kind; sizes are those of regular files (0 otherwise).
 */
import type { Row } from './stack.js';

export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

export function findFiles(rows: Iterable<Row>, opts: { largerThan?: number; name?: string; type?: string }): Row[] {
  const type = opts.type ?? 'f';
  const re = opts.name === undefined ? undefined : globRegExp(opts.name);
  const onPath = opts.name?.includes('/') ?? false;
  const out: Row[] = [];
  for (const r of rows) {
    if (type !== 'any' && r.type !== type) continue;
    if (opts.largerThan !== undefined && !(r.size > opts.largerThan)) continue;
    if (re && !re.test(onPath ? r.path : r.path.slice(r.path.lastIndexOf('/') + 1))) continue;
    out.push(r);
  }
  return out.sort((a, b) => b.size - a.size || Buffer.compare(a.key, b.key));
}
