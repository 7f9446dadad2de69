/**
 * The reference images in test/fixtures, built by `npm run fixtures:build` (scripts/fixtures: buildah,
 * podman, skopeo, umoci and GNU tar) with ground truth from podman and umoci; `npm run
 * fixtures:verify` re-checks the committed truth. Tests read them in place.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The fixtures' own tools (manifest.py, changes.py, entries.py) in scripts/fixtures. */
export const FIXTURE_TOOLS = fileURLToPath(new URL('../../scripts/fixtures/', import.meta.url));

if (!existsSync(join(FIXTURES, 'README.md'))) {
  throw new Error(`the reference fixtures are missing: expected them at ${FIXTURES} (npm run fixtures:build makes them)`);
}

export const FORMATS = ['docker-archive.tar', 'oci-archive.tar', 'oci-archive-gzip.tar', 'oci-archive-zstd.tar'];

/** Every image folder that has truth/ (gnutar, layers, links, names, umoci, volumes, whiteouts). */
export const IMAGES = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(FIXTURES, d.name, 'truth')))
  .map((d) => d.name)
  .sort();

/** Every archive to open: [label, path, tag?, image whose truth applies]. */
export function archives(): Array<{ label: string; path: string; tag?: string; image: string }> {
  const out: Array<{ label: string; path: string; tag?: string; image: string }> = [];
  for (const image of IMAGES) {
    for (const f of FORMATS) out.push({ label: `${image}/${f}`, path: join(FIXTURES, image, f), image });
  }
  out.push({ label: 'umoci/oci-layout-multi.tar (ref latest)', path: join(FIXTURES, 'umoci/oci-layout-multi.tar'), tag: 'latest', image: 'umoci' });
  for (const image of ['layers', 'volumes']) {
    out.push({ label: `multi-image/docker-archive-multi.tar (${image})`, path: join(FIXTURES, 'multi-image/docker-archive-multi.tar'), tag: `localhost/${image}:latest`, image });
  }
  return out;
}

export function truth(image: string, file: string): string {
  return readFileSync(join(FIXTURES, image, 'truth', file), 'utf8');
}

/** How many step-N.manifest files an image has (= its layer count). */
export function steps(image: string): number {
  return readdirSync(join(FIXTURES, image, 'truth')).filter((f) => /^step-\d+\.manifest$/.test(f)).length;
}

/**
 * The fixtures a registry test reads: in npm test those whose rules differ (non-UTF-8 names,
 * layers, whiteouts and opaque directories, hard links); with LAYERFS_COMMIT_ALL=1 (npm run
 * test:slow) every one.
 */
export const REGISTRY_IMAGES = process.env.LAYERFS_COMMIT_ALL === '1' ? ['names', 'layers', 'whiteouts', 'links', 'gnutar', 'umoci', 'volumes'] : ['names', 'layers', 'whiteouts', 'links'];
