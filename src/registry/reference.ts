/**
 * `docker://HOST[:PORT]/REPO[:TAG|@DIGEST]` (skopeo's spelling), normalised as Docker does
 * (distribution/reference's ParseNormalizedNamed):
 * - the first path component is a registry host when it holds '.' or ':' or is `localhost`;
 *   otherwise the host is docker.io, and a one-component repository gets `library/`;
 * - docker.io is served at registry-1.docker.io;
 * - no tag and no digest means `:latest`; with both, the digest decides what is fetched;
 * - repository components are lowercase `[a-z0-9]+` joined by `.`, `_`, `__` or dashes; a tag is
 *   `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`; only sha256 digests are accepted (the only one verified);
 * - the name (host/repository) is at most 255 characters.
 */
import { RegistryError } from './errors.js';

export const TRANSPORT = 'docker://';

export interface Reference {
  /** The registry as written (`docker.io`, `127.0.0.1:5000`). */
  registry: string;
  /** Where its API is (`registry-1.docker.io` for docker.io). */
  host: string;
  /** `library/debian`, `team/app`. */
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

export function isRegistryRef(ref: string): boolean {
  return ref.startsWith(TRANSPORT);
}

export function parseReference(ref: string): Reference {
  const bad = (problem: string): never => {
    throw new RegistryError('BAD_REFERENCE', ref, `${problem} (expected docker://HOST[:PORT]/REPO[:TAG|@DIGEST])`);
  };
  if (!isRegistryRef(ref)) bad('not a registry reference: it must start with docker://');
  let rest = ref.slice(TRANSPORT.length);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) bad(`digest ${JSON.stringify(digest)} is not sha256: and 64 lowercase hex digits`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) bad(`tag ${JSON.stringify(tag)} is not 1-128 of [A-Za-z0-9_.-] starting with a letter, digit or _`);
  }
  if (rest === '') bad('no repository named');
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  let registry = 'docker.io';
  let repository = rest;
  if (first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    repository = rest.slice(slash + 1);
    if (!HOST.test(registry)) bad(`registry host ${JSON.stringify(registry)} is not a host name or address with an optional port`);
  }
  if (registry === 'index.docker.io') registry = 'docker.io';
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  for (const c of repository.split('/')) {
    if (!COMPONENT.test(c)) bad(`repository component ${JSON.stringify(c)} must be lowercase letters and digits, joined by '.', '_', '__' or '-'`);
  }
  if (registry.length + 1 + repository.length > 255) bad('the name is over 255 characters');
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, host: registry === 'docker.io' ? 'registry-1.docker.io' : registry, repository, tag, digest };
}

/** The reference in full (`docker://host/repo:tag@digest`). */
export function formatReference(r: Reference): string {
  return `${TRANSPORT}${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The name an image pulled from `r` is tagged with in the state (`host/repo:tag`, as podman lists it). */
export function localTag(r: Reference): string {
  return `${r.registry}/${r.repository}:${r.tag ?? 'latest'}`;
}

/**
 * Docker talks plain HTTP to a registry on a loopback address without being told (localhost,
 * 127.0.0.0/8, ::1 are "insecure registries" by default).
 */
export function isLoopback(host: string): boolean {
  const name = host.replace(/:[0-9]+$/, '').replace(/^\[|\]$/g, '');
  return name === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) || name === '::1';
}
