/**
 * The file viewer: one version of a file as text (with line numbers) or, when it is binary, as hex;
 * for a file several layers wrote, every version and a line diff between any two (jsdiff).
 *
 * Rules:
 * - A version is the file as the image has it after that layer (GET …/file?layer=L).
 * - Binary: a NUL byte, or bytes that are not UTF-8, in what was read.
 * - At most 1 MiB of a file is read (a Range request); the viewer says when it shows a part.
 */
import { diffLines } from 'diff';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { bytes } from '../format';
import type { Version } from '../types';
import { VirtualList } from '../virtual-list';

const MAX = 1 << 20;

interface Loaded {
  bytes: Uint8Array;
  size: number;
  text?: string;
}

function decode(b: Uint8Array): string | undefined {
  if (b.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return undefined;
  }
}

async function fetchVersion(image: string, path: string, layer: number): Promise<Loaded> {
  const r = await api.file(image, path, layer, MAX);
  return { ...r, text: decode(r.bytes) };
}

interface Props {
  image: string;
  path: string;
  /** The layer whose view is shown (the explorer's selected layer). */
  layer: number;
  onClose: () => void;
}

export function Viewer({ image, path, layer, onClose }: Props) {
  const [versions, setVersions] = useState<Version[]>([]);
  const [at, setAt] = useState(layer);
  const [against, setAgainst] = useState<number | undefined>();
  const [file, setFile] = useState<Loaded>();
  const [other, setOther] = useState<Loaded>();
  const [err, setErr] = useState<string>();
  const [hex, setHex] = useState(false);

  useEffect(() => {
    api.versions(image, path).then(
      (v) => {
        const vs = v.versions.filter((x) => x.kind === 'entry' && x.type === 'f' && x.layer <= layer);
        setVersions(vs);
        // Shown first: the version visible after the selected layer.
        const top = vs[vs.length - 1];
        if (top) setAt(top.layer);
      },
      () => setVersions([]),
    );
  }, [image, path, layer]);

  useEffect(() => {
    setErr(undefined);
    fetchVersion(image, path, at).then(setFile, (e) => setErr(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e)));
  }, [image, path, at]);

  useEffect(() => {
    setOther(undefined);
    if (against !== undefined) fetchVersion(image, path, against).then(setOther, (e) => setErr(String(e)));
  }, [image, path, against]);

  const close = (e: KeyboardEvent) => {
    if (e.key === 'Escape') onClose();
  };

  return (
    <section class="viewer" aria-label={`file ${path}`} data-testid="viewer" onKeyDown={close} tabIndex={-1}>
      <header class="vhead">
        <h2 title={path}>{path}</h2>
        <button type="button" class="ghostbtn" onClick={onClose} aria-label="close the viewer">
          ✕
        </button>
      </header>
      <div class="vbar">
        {versions.length > 0 && (
          <div class="seg" role="group" aria-label="version">
            {versions.map((v) => (
              <button type="button" key={v.layer} class={v.layer === at ? 'on' : ''} onClick={() => setAt(v.layer)} title={`the file as layer ${v.layer} wrote it`}>
                layer {v.layer}
                {v.change ? ` ${v.change}` : ''}
              </button>
            ))}
          </div>
        )}
        {versions.length > 1 && (
          <label>
            diff against{' '}
            <select value={against ?? ''} onChange={(e) => setAgainst((e.currentTarget as HTMLSelectElement).value === '' ? undefined : Number((e.currentTarget as HTMLSelectElement).value))}>
              <option value="">—</option>
              {versions
                .filter((v) => v.layer !== at)
                .map((v) => (
                  <option key={v.layer} value={v.layer}>
                    layer {v.layer}
                  </option>
                ))}
            </select>
          </label>
        )}
        {file?.text !== undefined && against === undefined && (
          <label>
            <input type="checkbox" checked={hex} onChange={() => setHex(!hex)} /> hex
          </label>
        )}
        {file && (
          <span class="muted">
            {bytes(file.size)}
            {file.size > file.bytes.length ? ` · first ${bytes(file.bytes.length)} shown` : ''}
          </span>
        )}
      </div>
      {err && <p class="error">{err}</p>}
      {file && against !== undefined && other && <DiffView older={against < at ? other : file} newer={against < at ? file : other} labels={against < at ? [against, at] : [at, against]} />}
      {file && against === undefined && (file.text === undefined || hex ? <Hex data={file.bytes} /> : <Text text={file.text} />)}
    </section>
  );
}

function Text({ text }: { text: string }) {
  const lines = useMemo(() => text.split('\n'), [text]);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const w = String(lines.length).length;
  return (
    <VirtualList
      class="code"
      count={lines.length}
      rowHeight={20}
      label="file text"
      testId="text"
      row={(i) => (
        <div class="line">
          <span class="ln" style={{ width: `${w + 1}ch` }}>
            {i + 1}
          </span>
          <span class="lt">{lines[i] || ' '}</span>
        </div>
      )}
    />
  );
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function Hex({ data }: { data: Uint8Array }) {
  const rows = Math.ceil(data.length / 16);
  return (
    <VirtualList
      class="code hex"
      count={rows}
      rowHeight={20}
      label="file bytes"
      testId="hex"
      row={(r) => {
        const chunk = data.subarray(r * 16, r * 16 + 16);
        const h: string[] = [];
        let a = '';
        chunk.forEach((b, i) => {
          h.push(HEX[b] + (i === 7 ? ' ' : ''));
          a += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '·';
        });
        return (
          <div class="line">
            <span class="ln">{(r * 16).toString(16).padStart(8, '0')}</span>
            <span class="hx">{h.join(' ')}</span>
            <span class="as">{a}</span>
          </div>
        );
      }}
    />
  );
}

function DiffView({ older, newer, labels }: { older: Loaded; newer: Loaded; labels: [number, number] }) {
  const parts = useMemo(() => (older.text !== undefined && newer.text !== undefined ? diffLines(older.text, newer.text) : undefined), [older, newer]);
  if (!parts)
    return (
      <p class="muted">
        One of the two versions is binary: no text diff ({bytes(older.size)} → {bytes(newer.size)}).
      </p>
    );
  const lines: Array<{ kind: ' ' | '+' | '-'; text: string }> = [];
  for (const p of parts) {
    const ls = p.value.split('\n');
    if (ls[ls.length - 1] === '') ls.pop();
    for (const t of ls) lines.push({ kind: p.added ? '+' : p.removed ? '-' : ' ', text: t });
  }
  const add = lines.filter((l) => l.kind === '+').length;
  const del = lines.filter((l) => l.kind === '-').length;
  return (
    <>
      <p class="muted small" data-testid="diff-summary">
        layer {labels[0]} → layer {labels[1]}: <span class="c-A">+{add}</span> <span class="c-D">−{del}</span> lines
      </p>
      <VirtualList
        class="code diff"
        count={lines.length}
        rowHeight={20}
        label="text diff"
        testId="diff"
        row={(i) => (
          <div class={`line d${lines[i].kind === '+' ? 'A' : lines[i].kind === '-' ? 'D' : ''}`}>
            <span class="ln">{lines[i].kind}</span>
            <span class="lt">{lines[i].text || ' '}</span>
          </div>
        )}
      />
    </>
  );
}
