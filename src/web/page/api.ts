/**
 * The page's client of layerfs serve's API (docs/api.md). Every call is same-origin; the token of a
 * non-loopback server (the `?token=` of the URL it printed) is sent as a header on every call.
 * An error answer becomes an ApiError carrying the API's code, message and HTTP status.
 */
import type {
  Config,
  ContainerRecord,
  ExecResult,
  FindPage,
  ImageDetail,
  ImageDiff,
  ImageRecord,
  LayerReport,
  MountRecord,
  ServerInfo,
  SizeNode,
  Stack,
  Strategy,
  TreePage,
  Version,
  VolumeRecord,
  Waste,
} from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

const token = new URLSearchParams(location.search).get('token');
const headers = (extra: Record<string, string> = {}): Record<string, string> => (token ? { ...extra, 'X-Layerfs-Token': token } : extra);

async function fail(res: Response): Promise<never> {
  let body: { error?: { code?: string; message?: string; path?: string } } = {};
  try {
    body = await res.json();
  } catch {
    // not JSON: keep the status line
  }
  const e = body.error;
  throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? `${res.status} ${res.statusText}`, e?.path);
}

/**
 * GETs started before anyone asks (the first tree level while the image's report loads, so the two
 * travel at once); the first call of the same URL takes its answer.
 */
const early = new Map<string, Promise<unknown>>();

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  const pending = method === 'GET' ? early.get(url) : undefined;
  if (pending) {
    early.delete(url);
    return pending as Promise<T>;
  }
  const res = await fetch(url, {
    method,
    headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) return fail(res);
  return (await res.json()) as T;
}

const q = (params: Record<string, string | number | boolean | undefined | null>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
  const t = s.toString();
  return t ? `?${t}` : '';
};
const img = (id: string) => `/api/images/${encodeURIComponent(id)}`;

export interface TreeQuery {
  path: string;
  layer?: number;
  changes?: number;
  offset?: number;
  limit?: number;
  sort?: 'name' | 'size';
  order?: 'asc' | 'desc';
}

export const api = {
  /** Starts api.tree(id, t) now; the first call with the same query gets this answer. */
  prefetchTree(id: string, t: TreeQuery): void {
    const url = `${img(id)}/tree${q({ ...t })}`;
    if (!early.has(url)) {
      const p = call<TreePage>('GET', url);
      p.catch(() => early.delete(url));
      early.set(url, p);
    }
  },
  info: () => call<ServerInfo>('GET', '/api/info'),
  images: () => call<{ images: ImageRecord[] }>('GET', '/api/images'),
  image: (id: string) => call<ImageDetail>('GET', img(id)),
  config: (id: string) => call<Config>('GET', `${img(id)}/config`),
  tree: (id: string, t: TreeQuery) => call<TreePage>('GET', `${img(id)}/tree${q({ ...t })}`),
  find: (id: string, name: string, opts: { largerThan?: number; type?: string; layer?: number; limit?: number } = {}) => call<FindPage>('GET', `${img(id)}/find${q({ name, ...opts })}`),
  versions: (id: string, path: string) => call<{ path: string; versions: Version[] }>('GET', `${img(id)}/versions${q({ path })}`),
  waste: (id: string) => call<Waste>('GET', `${img(id)}/waste`),
  sizes: (id: string, path: string, depth: number, layer?: number) => call<SizeNode>('GET', `${img(id)}/sizes${q({ path, depth, layer })}`),
  diff: (a: string, b: string) => call<ImageDiff>('GET', `/api/diff${q({ a, b })}`),
  /** Up to `max` bytes of a file (a Range request) and its full size. */
  async file(id: string, path: string, layer: number | undefined, max: number): Promise<{ bytes: Uint8Array; size: number }> {
    const res = await fetch(`${img(id)}/file${q({ path, layer })}`, { headers: headers({ Range: `bytes=0-${max - 1}` }) });
    if (res.status === 416) return { bytes: new Uint8Array(0), size: 0 };
    if (!res.ok) return fail(res);
    const range = res.headers.get('Content-Range');
    const bytes = new Uint8Array(await res.arrayBuffer());
    const size = range ? Number(range.split('/')[1]) : bytes.length;
    return { bytes, size: Number.isFinite(size) ? size : bytes.length };
  },
  fileUrl: (id: string, path: string, layer?: number) => `${img(id)}/file${q({ path, layer, token })}`,
  load: (path: string, tag?: string) => call<{ image: ImageRecord }>('POST', '/api/images/load', { path, tag }),
  /** Streams a file to the server, reporting upload progress (0..1). */
  upload(file: File, onProgress: (done: number) => void): Promise<{ image: ImageRecord; bytes: number }> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `/api/images/upload${q({ filename: file.name })}`);
      for (const [k, v] of Object.entries(headers({ 'Content-Type': 'application/octet-stream' }))) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
      xhr.onerror = () => reject(new ApiError(0, 'NETWORK', `upload of ${file.name} failed: the server did not answer`));
      xhr.onload = () => {
        let body: { error?: { code: string; message: string } } & { image?: ImageRecord; bytes?: number } = {};
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          // not JSON
        }
        if (xhr.status >= 200 && xhr.status < 300 && body.image) resolve(body as { image: ImageRecord; bytes: number });
        else reject(new ApiError(xhr.status, body.error?.code ?? `HTTP_${xhr.status}`, body.error?.message ?? `upload failed (${xhr.status})`));
      };
      xhr.send(file);
    });
  },
  containers: () => call<{ containers: ContainerRecord[] }>('GET', '/api/containers'),
  volumes: () => call<{ volumes: VolumeRecord[] }>('GET', '/api/volumes'),
  container: (c: string) => call<{ container: ContainerRecord; stack: Stack }>('GET', `/api/containers/${encodeURIComponent(c)}`),
  create: (body: { image: string; name?: string; readOnly?: boolean; copyUp?: Strategy; mounts: MountRecord[]; volumesFrom: Array<{ container: string; mode?: 'ro' | 'rw' }> }) =>
    call<{ container: ContainerRecord; stack: Stack }>('POST', '/api/containers', body),
  strategy: (c: string, copyUp: Strategy) => call<{ container: ContainerRecord; stack: Stack }>('PATCH', `/api/containers/${encodeURIComponent(c)}`, { copyUp }),
  exec: (c: string, command: string) => call<ExecResult>('POST', `/api/containers/${encodeURIComponent(c)}/exec`, { command }),
  commit: (c: string, tag: string) => call<{ image: ImageRecord; layers: LayerReport[] }>('POST', `/api/containers/${encodeURIComponent(c)}/commit`, { tag }),
  remove: (c: string, volumes: boolean) => call<{ removed: string; volumes: string[] }>('DELETE', `/api/containers/${encodeURIComponent(c)}${q({ volumes: volumes ? 1 : undefined })}`),
};
