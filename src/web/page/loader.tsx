/**
 * Loading another image: by a path on the server's host (POST …/load, loopback servers only) or by
 * dropping an archive anywhere on the page (streamed upload with a progress bar).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api';
import { bytes } from './format';
import type { ImageRecord, ServerInfo } from './types';

export function Loader({ info, onLoaded }: { info?: ServerInfo; onLoaded: (i: ImageRecord) => void }) {
  const [open, setOpen] = useState(false);
  const [path, setPath] = useState('');
  const [progress, setProgress] = useState<{ name: string; done: number; size: number }>();
  const [drag, setDrag] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string }>();

  const upload = async (f: File) => {
    setMsg(undefined);
    // The outcome of an upload is shown in the popover: a file dropped while it was closed opens it,
    // so a refused archive's error is seen, not set where nothing draws it.
    setOpen(true);
    setProgress({ name: f.name, done: 0, size: f.size });
    try {
      const r = await api.upload(f, (d) => setProgress({ name: f.name, done: d, size: f.size }));
      setMsg({ ok: true, text: `loaded ${r.image.tags[0] ?? r.image.id.slice(0, 12)} (${bytes(r.bytes)})` });
      onLoaded(r.image);
    } catch (e) {
      setMsg({ ok: false, text: e instanceof ApiError ? `${e.code}: ${e.message}` : String(e) });
    } finally {
      setProgress(undefined);
    }
  };

  useEffect(() => {
    const over = (e: DragEvent) => {
      if (e.dataTransfer?.types.includes('Files')) {
        e.preventDefault();
        setDrag(true);
      }
    };
    const leave = (e: DragEvent) => e.relatedTarget === null && setDrag(false);
    const drop = (e: DragEvent) => {
      e.preventDefault();
      setDrag(false);
      const f = e.dataTransfer?.files[0];
      if (f) void upload(f);
    };
    addEventListener('dragover', over);
    addEventListener('dragleave', leave);
    addEventListener('drop', drop);
    return () => {
      removeEventListener('dragover', over);
      removeEventListener('dragleave', leave);
      removeEventListener('drop', drop);
    };
  }, []);

  const byPath = async (e: Event) => {
    e.preventDefault();
    setMsg(undefined);
    try {
      const r = await api.load(path.trim());
      setMsg({ ok: true, text: `loaded ${r.image.tags[0] ?? r.image.id.slice(0, 12)}` });
      setPath('');
      onLoaded(r.image);
    } catch (err) {
      setMsg({ ok: false, text: err instanceof ApiError ? `${err.code}: ${err.message}` : String(err) });
    }
  };

  return (
    <>
      <button type="button" class="ghostbtn" onClick={() => setOpen(!open)} aria-expanded={open} data-testid="load-open">
        + Load image
      </button>
      {open && (
        <div class="popover" role="dialog" aria-label="load an image">
          {info?.loopback !== false && (
            <form onSubmit={byPath}>
              <label>
                Archive or OCI layout on this machine
                <input value={path} placeholder="/path/to/image.tar" onInput={(e) => setPath((e.currentTarget as HTMLInputElement).value)} />
              </label>
              <button type="submit" class="primary" disabled={!path.trim()}>
                Load
              </button>
            </form>
          )}
          <label class="filepick">
            …or upload an archive (or drop it anywhere)
            <input
              type="file"
              data-testid="upload-file"
              onChange={(e) => {
                const f = (e.currentTarget as HTMLInputElement).files?.[0];
                if (f) void upload(f);
              }}
            />
          </label>
          {info && <p class="muted small">Uploads up to {bytes(info.uploadLimit)}; checked like `layerfs load`.</p>}
          {msg && (
            <p class={msg.ok ? 'c-A' : 'error'} data-testid="load-message" role={msg.ok ? 'status' : 'alert'}>
              {msg.text}
            </p>
          )}
        </div>
      )}
      {progress && (
        <div class="upload" role="progressbar" data-testid="upload-progress" aria-valuenow={Math.round(progress.done * 100)} aria-valuemin={0} aria-valuemax={100}>
          <span>
            Uploading {progress.name} · {bytes(progress.done * progress.size)} of {bytes(progress.size)}
          </span>
          <div class="bar">
            <div style={{ width: `${progress.done * 100}%` }} />
          </div>
        </div>
      )}
      {drag && <div class="dropzone">Drop an image archive to load it</div>}
    </>
  );
}
