/** The shapes of layerfs serve's JSON API (docs/api.md), as the page reads them. */

export type Change = 'A' | 'M' | 'D';
export type Strategy = 'full' | 'metadata' | 'chunked';

export interface ImageRecord {
  id: string;
  tags: string[];
  source?: string;
  format: string;
  configDigest: string;
  created: string | null;
  size: number;
  stored: boolean;
}

export interface LayerReport {
  layer: number;
  digest: string;
  diffId?: string;
  mediaType?: string;
  size: number;
  compressedSize: number;
  createdBy?: string | null;
  added: number;
  modified: number;
  deleted: number;
  wastedBytes?: number;
}

export type Cause = 'overwritten' | 'deleted' | 'metadata-duplicate' | 'duplicate' | 'hidden';

export interface WastedCopy {
  layer: number;
  bytes: number;
  reason: string;
  by?: number;
  changed?: string[];
  cause?: Cause;
}

export interface Waste {
  totalBytes: number;
  userBytes: number;
  wastedBytes: number;
  efficiency: number;
  userWastedRatio: number;
  causes?: Partial<Record<Cause, number>>;
  paths: Array<{ path: string; bytes: number; copies: WastedCopy[] }>;
}

export interface ImageDetail {
  id: string;
  configDigest: string;
  file: string;
  format: string;
  tags: string[];
  layers: LayerReport[];
  waste: Waste;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
  layer: number | null;
}

export interface Config {
  Env: string[] | null;
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  WorkingDir: string | null;
  User: string | null;
  Volumes: Record<string, unknown> | null;
  ExposedPorts: Record<string, unknown> | null;
  Labels: Record<string, string> | null;
  StopSignal: string | null;
  architecture?: string;
  os?: string;
  created?: string;
  history: HistoryEntry[];
}

export interface Origin {
  layer: number;
  merges: number[];
  hides: number[];
}

export interface TreeEntry {
  name: string;
  path: string;
  type: string;
  mode: string;
  uid: number;
  gid: number;
  size: number;
  target?: string;
  linkgroup?: string;
  xattrs?: string;
  layer: number;
  change?: Change;
  fields?: string[];
  origin?: Origin;
  bytes: number;
  children: number;
  changesBelow?: number;
}

export interface TreePage {
  path: string;
  layer: number | null;
  changes: number | null;
  total: number;
  offset: number;
  limit: number;
  entries: TreeEntry[];
}

export interface FoundEntry {
  path: string;
  type: string;
  size: number;
  layer: number;
}

export interface FindPage {
  total: number;
  offset: number;
  limit: number;
  entries: FoundEntry[];
}

export interface Version {
  layer: number;
  kind: 'entry' | 'deleted';
  type?: string;
  mode?: string;
  uid?: number;
  gid?: number;
  size?: number;
  sha256?: string;
  target?: string;
  how?: string;
  change?: Change;
  fields?: string[];
}

export interface SizeNode {
  name: string;
  path: string;
  type: string;
  bytes: number;
  files: number;
  children?: SizeNode[];
}

export interface DiffSide {
  type: string;
  size: number;
}

/** The one diff shape (docs/json.md): podman's A/C/D, what was there before and after. */
export type ImageDiff = Array<{ kind: 'A' | 'C' | 'D'; path: string; fields?: string[]; before?: DiffSide; after?: DiffSide }>;

export interface MountRecord {
  type: 'volume' | 'bind' | 'tmpfs';
  source?: string;
  target: string;
  readOnly?: boolean;
  noCopy?: boolean;
}

export interface ContainerRecord {
  id: string;
  name: string;
  image: string;
  imageId: string;
  state: string;
  status: string;
  created: string;
  mounts: MountRecord[];
  readOnly: boolean;
  open: boolean;
  copyUp: Strategy | null;
}

export interface VolumeRecord {
  name: string;
  anonymous: boolean;
  created: string;
  usedBy: string[];
}

export interface LayerPath {
  path: string;
  type: string;
  size?: number;
  status?: string;
}

export interface Stack {
  image: { id: string; tags: string[] };
  readOnlyRoot: boolean;
  copyUp: Strategy;
  layers: Array<{ layer: number; digest: string; createdBy?: string | null; size: number }>;
  containerLayer: { entries: number; bytes: number; paths: LayerPath[] };
  mounts: MountRecord[];
}

export interface LabEvent {
  kind: 'copy-up' | 'copy-data' | 'whiteout' | 'opaque' | 'write' | string;
  path: string;
  type?: string;
  bytes?: number;
  strategy?: Strategy;
  data?: boolean;
  mount?: string;
  mountKind?: 'layer' | 'volume' | 'bind' | 'tmpfs';
  source?: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  status: number;
  cwd: string;
  events: LabEvent[];
  stack: Stack;
}

export interface ServerInfo {
  version: string;
  bindRoot: boolean;
  loopback: boolean;
  uploadLimit: number;
  images: string[];
}

export interface ApiErrorBody {
  error: { code: string; message: string; path?: string };
}
