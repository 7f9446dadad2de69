/**
 * `history IMAGE` and `image inspect IMAGE`: what the config says (history, env, entrypoint,
 * layers' digests and sizes). For a docker:// IMAGE only the manifest and the config are fetched
 * (src/registry/remote-config.ts), never a layer, and the bytes fetched are reported; a local
 * IMAGE (archive, layout, stored tag or id) is opened as the explore commands open it.
 */
import type { Command } from 'commander';
import type { HistoryEntry, ImageConfig } from '../../image/config.js';
import { loadRef } from '../../explore/open.js';
import { isRegistryRef } from '../../registry/reference.js';
import { remoteConfig } from '../../registry/remote-config.js';
import type { Transfer } from '../../registry/store-image.js';
import { humanSize, makeOut, printJson } from '../output.js';
import { printTable } from './lifecycle-table.js';
import { remoteOptions, transferLine } from './registry.js';

interface Info {
  id: string;
  config: ImageConfig;
  /** Bottom first: the blob digests and their sizes as stored. */
  layers: Array<{ digest: string; size: number; mediaType?: string }>;
  manifestDigest?: string;
  transfer?: Transfer;
}

async function info(ref: string, cmd: Command): Promise<Info> {
  const home = (cmd.optsWithGlobals() as { home?: string }).home;
  if (isRegistryRef(ref)) {
    const r = await remoteConfig(ref, { ...remoteOptions(cmd), home });
    return { id: r.configDigest, config: r.config, layers: r.resolved.image.layers, manifestDigest: r.resolved.manifest.digest, transfer: r.transfer };
  }
  const image = await loadRef(ref, { home });
  try {
    return { id: image.configDigest ?? '', config: image.config, layers: image.layers.map((l) => ({ digest: l.digest, size: l.compressedSize, mediaType: l.mediaType })) };
  } finally {
    image.close();
  }
}

/** History entries with the layer each made (empty_layer entries make none). */
function historyRows(i: Info): Array<HistoryEntry & { layer?: { digest: string; size: number } }> {
  let n = 0;
  return (i.config.history ?? []).map((h) => (h.empty_layer ? { ...h } : { ...h, layer: i.layers[n++] }));
}

/** `history docker://…`: from the manifest and config only (image-verbs.ts registers the command). */
export async function remoteHistory(ref: string, cmd: Command): Promise<void> {
  const json = !!cmd.optsWithGlobals().json;
  const i = await info(ref, cmd);
  const rows = historyRows(i).reverse();
  if (json) return printJson({ history: rows, transfer: i.transfer });
  printTable(makeOut(cmd.optsWithGlobals()), ['LAYER', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], rows.map((r) => [
    r.layer ? r.layer.digest.slice(7, 19) : '<missing>', r.created ?? '', (r.created_by ?? '').slice(0, 60), r.layer ? humanSize(r.layer.size) : '0 B', r.comment ?? '',
  ]));
  if (i.transfer) process.stderr.write(`layerfs: ${transferLine(i.transfer)}\n`);
}

/** `image inspect docker://…`: the config and the manifest's layers, manifest and config only fetched. */
export async function remoteInspect(ref: string, cmd: Command): Promise<void> {
  const i = await info(ref, cmd);
  const c = i.config as ImageConfig & { variant?: string };
  printJson({
    Id: i.id, Digest: i.manifestDigest, Created: c.created, Architecture: c.architecture, Os: c.os, Variant: c.variant,
    Config: c.config, RootFS: c.rootfs, History: c.history, Layers: i.layers, Size: i.layers.reduce((s, l) => s + l.size, 0),
    ...(i.transfer ? { Transfer: i.transfer } : {}),
  });
  // The JSON on stdout carries Transfer; the summary line goes to stderr all the same.
  if (i.transfer) process.stderr.write(`layerfs: ${transferLine(i.transfer)}\n`);
}
