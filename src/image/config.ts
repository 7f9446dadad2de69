/**
 * The image configuration (OCI `config.md`, same JSON as Docker's image JSON), typed and checked.
 * Field names are kept exactly as in the JSON so the spec and `docker inspect` read the same;
 * fields not typed here stay on the object untouched.
 */
import { ArchiveError } from '../core/errors.js';

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ContainerConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  /** OCI-15: a set of paths, written as a JSON map to `{}`. */
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, object>;
  StopSignal?: string;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  author?: string;
  /** Always present; `{}` when the JSON has none. */
  config: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  /** Always present; `[]` when the JSON has none. */
  history: HistoryEntry[];
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(file: string, what: string, problem: string): never {
  throw new ArchiveError('BAD_MANIFEST', file, `${what}: ${problem}`);
}

function strings(v: unknown, field: string, file: string, what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) bad(file, what, `${field} must be an array of strings, found ${JSON.stringify(v)}`);
  return v as string[];
}

function string(v: unknown, field: string, file: string, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') bad(file, what, `${field} must be a string, found ${JSON.stringify(v)}`);
  return v;
}

function map<T>(v: unknown, field: string, file: string, what: string, ok: (x: unknown) => boolean): Record<string, T> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v) || !Object.values(v).every(ok)) bad(file, what, `${field} must be an object, found ${JSON.stringify(v)}`);
  return v as Record<string, T>;
}

/** Parses config JSON. OCI-3: `rootfs.type` must be "layers" and every diff_id a sha256 digest. */
export function parseConfig(json: unknown, file: string, what = 'image config'): ImageConfig {
  if (!isObj(json)) bad(file, what, `expected a JSON object, found ${JSON.stringify(json)?.slice(0, 60)}`);
  const rootfs = json.rootfs;
  if (!isObj(rootfs)) bad(file, what, 'rootfs is missing');
  if (rootfs.type !== 'layers') bad(file, what, `rootfs.type is ${JSON.stringify(rootfs.type)}, expected "layers"`);
  const diffIds = strings(rootfs.diff_ids, 'rootfs.diff_ids', file, what) ?? [];
  diffIds.forEach((d, i) => {
    if (!DIGEST.test(d)) bad(file, what, `rootfs.diff_ids[${i}] is ${JSON.stringify(d)}, expected "sha256:" and 64 hex digits`);
  });
  const c = json.config ?? {};
  if (!isObj(c)) bad(file, what, `config must be an object, found ${JSON.stringify(c)}`);
  // Fields not typed here (Healthcheck, OnBuild, ...) are kept as they are, so a commit can
  // write them back; typed fields are checked, and null means absent.
  const config: ContainerConfig = { ...c };
  const set = <K extends keyof ContainerConfig>(k: K, v: ContainerConfig[K] | undefined): void => {
    if (v !== undefined) config[k] = v;
    else delete config[k];
  };
  set('User', string(c.User, 'config.User', file, what));
  set('Env', strings(c.Env, 'config.Env', file, what));
  set('Entrypoint', strings(c.Entrypoint, 'config.Entrypoint', file, what));
  set('Cmd', strings(c.Cmd, 'config.Cmd', file, what));
  set('Volumes', map<object>(c.Volumes, 'config.Volumes', file, what, isObj));
  set('WorkingDir', string(c.WorkingDir, 'config.WorkingDir', file, what));
  set(
    'Labels',
    map<string>(c.Labels, 'config.Labels', file, what, (x) => typeof x === 'string'),
  );
  set('ExposedPorts', map<object>(c.ExposedPorts, 'config.ExposedPorts', file, what, isObj));
  set('StopSignal', string(c.StopSignal, 'config.StopSignal', file, what));

  const hist = json.history ?? [];
  if (!Array.isArray(hist)) bad(file, what, `history must be an array, found ${JSON.stringify(hist)}`);
  const history: HistoryEntry[] = hist.map((h, i) => {
    if (!isObj(h)) bad(file, what, `history[${i}] must be an object`);
    const e: HistoryEntry = {};
    for (const k of ['created', 'created_by', 'author', 'comment'] as const) {
      const v = string(h[k], `history[${i}].${k}`, file, what);
      if (v !== undefined) e[k] = v;
    }
    if (h.empty_layer === true) e.empty_layer = true;
    return e;
  });

  const out = { ...json, config, rootfs: { ...rootfs, type: 'layers', diff_ids: diffIds }, history } as ImageConfig & Record<string, unknown>;
  for (const k of ['architecture', 'os', 'variant', 'created', 'author'] as const) {
    const v = string(json[k], k, file, what);
    if (v !== undefined) out[k] = v;
    else delete out[k];
  }
  return out;
}

/**
 * OCI-4: history entries marked `empty_layer` made no layer; the others belong to the layers in
 * order. A count that does not add up is reported, and layers get entries as far as they go.
 */
export function layerHistory(history: HistoryEntry[], layerCount: number, file: string, onWarning?: (m: string) => void): Array<HistoryEntry | undefined> {
  const real = history.filter((h) => !h.empty_layer);
  if (history.length > 0 && real.length !== layerCount) {
    onWarning?.(`${file}: config history has ${real.length} entries that made a layer, but the image has ${layerCount} layers; history is attributed in order as far as it goes (OCI-4)`);
  }
  return Array.from({ length: layerCount }, (_, i) => real[i]);
}

/** The configured volume paths (OCI-15), sorted. */
export function volumePaths(config: ImageConfig): string[] {
  return Object.keys(config.config.Volumes ?? {}).sort();
}
