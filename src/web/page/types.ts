/**
 * The shapes of layerfs serve's JSON API (docs/api.md), as the page reads them. What explore
 * answers is declared once, in src/explore/shapes.ts (no imports: browser code can read it), and
 * only named here; the rest (records, the lab) are the server's own answers.
 */
import type { ChangeKind, DiffEntry, LayerReport, Level, LevelEntry, Waste, WasteCause } from '../../explore/shapes';

export type { DiffSide, LayerReport, Origin, SizeNode, Version, Waste, WastedCopy } from '../../explore/shapes';
export type Change = ChangeKind;
export type Cause = WasteCause;
export type TreeEntry = LevelEntry;
export type TreePage = Level;
/** The one diff shape (docs/json.md): podman's A/C/D, what was there before and after. */
export type ImageDiff = DiffEntry[];

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
