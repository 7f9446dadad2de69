/**
 * The facts `history IMAGE` and `image inspect IMAGE` print (one shape each, src/explore/image-info.ts),
 * from wherever IMAGE is. For a docker:// IMAGE only the manifest and the config are fetched
 * (src/registry/remote-config.ts), never a layer, so the uncompressed sizes are not known; the
 * bytes fetched go to stderr (and `Transfer` in inspect's JSON). A local IMAGE (archive, layout,
 * stored tag or id) is opened as the explore commands open it.
 */
import type { Command } from 'commander';
import { localFacts, type ImageFacts } from '../../explore/image-info.js';
import { isRegistryRef, localTag, parseReference } from '../../registry/reference.js';
import type { Transfer } from '../../registry/store-image.js';
import { openStack } from './explore-common.js';
import { remoteOptions, transferLine } from './registry.js';
import { openEngine } from './run-container.js';
import { io } from '../io.js';

export interface Facts {
  facts: ImageFacts;
  transfer?: Transfer;
}

export async function imageFacts(ref: string, cmd: Command): Promise<Facts> {
  if (isRegistryRef(ref)) {
    const home = (cmd.optsWithGlobals() as { home?: string }).home;
    const { remoteConfig } = await import('../../registry/remote-config.js');
    const r = await remoteConfig(ref, { ...remoteOptions(cmd), home });
    const parsed = parseReference(ref);
    // RepoTags as podman gives them after a pull (the name it would be stored as), none for a digest.
    const tags = parsed.digest ? [] : [localTag(parsed)];
    io().atEnd(() => io().stderr.write(`layerfs: ${transferLine(r.transfer)}\n`));
    return {
      facts: {
        configDigest: r.configDigest,
        manifestDigest: r.resolved.manifest.digest,
        config: r.config,
        tags,
        layers: r.resolved.image.layers.map((l) => ({ digest: l.digest, blobSize: l.size })),
      },
      transfer: r.transfer,
    };
  }
  const stack = await openStack(ref, cmd);
  try {
    // The tags the state gives an image; an archive path keeps the archive's own.
    const tags = await (await openEngine(cmd)).state.resolveImage(ref).then(
      (r) => r.tags,
      () => stack.image.tags,
    );
    return { facts: localFacts(stack.image, tags) };
  } finally {
    stack.image.close();
  }
}
