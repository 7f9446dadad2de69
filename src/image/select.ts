/**
 * DA-1: choosing one image among several (docker-archive manifest items, OCI index entries).
 * One image needs no tag; several need one, and an ambiguous or unknown tag is an error that
 * lists what is there.
 */
import { ArchiveError } from '../core/errors.js';

export interface Candidate<T> {
  /** Names this image answers to: RepoTags, OCI ref names, containerd image names. */
  tags: string[];
  value: T;
}

/**
 * The names a reference also answers to: `localhost/layers:latest` is also `layers:latest` and
 * `layers` (a registry host is the first part when it has a '.' or ':' or is `localhost`;
 * `docker.io/library/x` is also `x`; `:latest` may be left off).
 */
export function refAliases(ref: string): Set<string> {
  const out = new Set([ref]);
  if (ref.includes('@')) return out; // digest references match only in full
  let name = ref;
  let tag: string | undefined;
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
  }
  const names = [name];
  const parts = name.split('/');
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) {
    names.push(parts.slice(1).join('/'));
  }
  for (const n of [...names]) if (n.startsWith('library/')) names.push(n.slice('library/'.length));
  for (const n of names) {
    if (tag === undefined || tag === 'latest') out.add(n);
    out.add(`${n}:${tag ?? 'latest'}`);
  }
  return out;
}

/**
 * A reference in the full form podman stores (`tag`, `load` of an OCI ref name without a
 * repository): a name without a registry host gets `localhost/`, a name without a tag gets
 * `:latest` (`app` → `localhost/app:latest`; a bare OCI ref name `v1` → `localhost/v1:latest`,
 * as podman 4.3 loads it). Digest references are kept as they are.
 */
export function normalizeRef(ref: string): string {
  if (ref.includes('@')) return ref;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const withTag = colon > slash ? ref : `${ref}:latest`;
  const first = withTag.split('/')[0]!;
  const host = withTag.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return host ? withTag : `localhost/${withTag}`;
}

function listing<T>(cands: Array<Candidate<T>>): string {
  return cands.map((c, i) => (c.tags.length ? c.tags.join(' = ') : `(untagged image ${i + 1})`)).join(', ');
}

/**
 * Picks the image named `tag` (or the only one). `tiebreak` may settle several matches that
 * are one image for several platforms; it returns undefined when it cannot.
 */
export function selectImage<T>(cands: Array<Candidate<T>>, tag: string | undefined, file: string, tiebreak?: (matches: Array<Candidate<T>>) => T | undefined): Candidate<T> {
  if (cands.length === 0) throw new ArchiveError('NO_SUCH_IMAGE', file, 'the archive lists no images');
  const matches = tag === undefined ? cands : cands.filter((c) => c.tags.some((t) => refAliases(t).has(tag)));
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) {
    throw new ArchiveError('NO_SUCH_IMAGE', file, `no image is tagged ${JSON.stringify(tag)}; the archive holds: ${listing(cands)}`);
  }
  const settled = tiebreak?.(matches);
  if (settled !== undefined) return matches.find((m) => m.value === settled)!;
  const why = tag === undefined ? `holds ${matches.length} images and no tag was given` : `has ${matches.length} images matching ${JSON.stringify(tag)}`;
  throw new ArchiveError('AMBIGUOUS_IMAGE', file, `the archive ${why}; pick one with the tag option: ${listing(matches)}`);
}
