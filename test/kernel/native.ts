/**
 * The few syscalls Node's `fs` lacks and the kernel side needs: mknod (whiteouts are char 0/0),
 * mkfifo, and extended attributes (`trusted.overlay.opaque=y`, reading back what overlayfs wrote).
 *
 * They run in ONE long-lived python3 child per process, spoken to with newline-delimited JSON, so a
 * case costs a pipe round trip instead of a python start-up (~20 ms, which would dominate the random
 * suite). Requests are answered in order. The child is unref'd: it never keeps a test process alive.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

const SCRIPT = String.raw`
import sys, os, stat, json
def walk(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [''] + dirnames + filenames:
            p = os.path.join(dirpath, name) if name else dirpath
            rel = os.path.relpath(p, root)
            if rel == '.':
                rel = ''
            try:
                names = os.listxattr(p, follow_symlinks=False)
            except OSError:
                continue
            if names:
                d = {}
                for n in names:
                    try:
                        d[n] = os.getxattr(p, n, follow_symlinks=False).hex()
                    except OSError:
                        pass
                out[rel] = d
    return out
def do(r):
    op = r['op']
    if op == 'mknod':
        os.mknod(r['path'], stat.S_IFCHR | 0o000, os.makedev(r.get('major', 0), r.get('minor', 0)))
        return None
    if op == 'mkfifo':
        os.mkfifo(r['path'], r.get('mode', 0o644))
        return None
    if op == 'setxattr':
        os.setxattr(r['path'], r['name'], bytes.fromhex(r['value']), follow_symlinks=False)
        return None
    if op == 'xattrs':
        return walk(r['root'])
    if op == 'ping':
        return 'pong'
    raise ValueError('unknown op ' + op)
for line in sys.stdin:
    req = json.loads(line)
    res = []
    for r in req:
        try:
            res.append({'ok': do(r)})
        except OSError as e:
            res.append({'err': e.strerror or str(e), 'errno': e.errno})
        except Exception as e:
            res.append({'err': str(e)})
    sys.stdout.write(json.dumps(res) + '\n')
    sys.stdout.flush()
`;

export type NativeRequest =
  | { op: 'mknod'; path: string; major?: number; minor?: number }
  | { op: 'mkfifo'; path: string; mode?: number }
  | { op: 'setxattr'; path: string; name: string; value: string /* hex */ }
  | { op: 'xattrs'; root: string }
  | { op: 'ping' };

interface Refable {
  ref?: () => void;
  unref?: () => void;
}
interface Pending {
  resolve: (v: unknown[]) => void;
  reject: (e: Error) => void;
}

class NativeHelper {
  private child: ChildProcessWithoutNullStreams;
  private queue: Pending[] = [];
  private buf = '';
  private dead: Error | undefined;

  constructor() {
    this.child = spawn('python3', ['-u', '-c', SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        const p = this.queue.shift();
        if (this.queue.length === 0) this.setRef(false);
        if (p) p.resolve(JSON.parse(line) as unknown[]);
      }
    });
    let stderr = '';
    this.child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const fail = (e: Error): void => {
      this.dead = e;
      for (const p of this.queue.splice(0)) p.reject(e);
    };
    this.child.on('error', fail);
    this.child.on('exit', (code) => fail(new Error(`python3 helper exited (${code}): ${stderr}`)));
    (this.child.stderr as unknown as Refable).unref?.();
    (this.child.stdin as unknown as Refable).unref?.();
    this.setRef(false);
  }

  /** Referenced while a request is in flight (so the loop waits for it), unreferenced when idle. */
  private setRef(on: boolean): void {
    const out = this.child.stdout as unknown as Refable;
    if (on) {
      this.child.ref();
      out.ref?.();
    } else {
      this.child.unref();
      out.unref?.();
    }
  }

  /** Runs requests in order; rejects on the first one that failed. */
  async run(reqs: NativeRequest[]): Promise<unknown[]> {
    if (reqs.length === 0) return [];
    if (this.dead) throw this.dead;
    const res = await new Promise<unknown[]>((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.setRef(true);
      this.child.stdin.write(JSON.stringify(reqs) + '\n');
    });
    return res.map((r, i) => {
      const o = r as { ok?: unknown; err?: string };
      if (o.err !== undefined) throw new Error(`${reqs[i].op} ${JSON.stringify(reqs[i])}: ${o.err}`);
      return o.ok;
    });
  }

  close(): void {
    this.child.stdin.end();
  }
}

let helper: NativeHelper | undefined;

export function native(): NativeHelper {
  helper ??= new NativeHelper();
  return helper;
}

/** All xattrs under `root` (lstat semantics), keyed by relative path ('' = root), values as bytes. */
export async function readXattrs(root: string): Promise<Map<string, Record<string, Buffer>>> {
  const [res] = await native().run([{ op: 'xattrs', root }]);
  const out = new Map<string, Record<string, Buffer>>();
  for (const [rel, attrs] of Object.entries(res as Record<string, Record<string, string>>)) {
    const d: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(attrs)) d[k] = Buffer.from(v, 'hex');
    out.set(rel, d);
  }
  return out;
}
