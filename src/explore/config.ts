/**
 * An image's configuration as people read it: the nine run-time keys of its container config
 * (always present, `null` when the image does not set them: the shape of the fixtures'
 * truth/config-summary.json), the platform, and the full history with the layer each entry made
 * (OCI-4: `empty_layer` entries made none).
 */
import type { ContainerConfig, HistoryEntry, LoadedImage } from '../image/index.js';

export const SUMMARY_KEYS = ['Cmd', 'Entrypoint', 'Env', 'ExposedPorts', 'Labels', 'StopSignal', 'User', 'Volumes', 'WorkingDir'] as const;

export type ConfigSummary = { [K in (typeof SUMMARY_KEYS)[number]]: ContainerConfig[K] | null } & {
  architecture: string | null;
  os: string | null;
  created: string | null;
  history: Array<HistoryEntry & { layer: number | null }>;
};

export function configSummary(image: LoadedImage): ConfigSummary {
  const c = image.config.config;
  const out = {} as Record<string, unknown>;
  for (const k of SUMMARY_KEYS) out[k] = c[k] ?? null;
  let layer = 0;
  const history = image.config.history.map((h) => ({ ...h, layer: h.empty_layer ? null : ++layer }));
  return {
    ...(out as Pick<ConfigSummary, (typeof SUMMARY_KEYS)[number]>),
    architecture: image.config.architecture ?? null,
    os: image.config.os ?? null,
    created: image.config.created ?? null,
    history,
  };
}
