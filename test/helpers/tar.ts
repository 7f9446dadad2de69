/** Builds real tar archives in memory with tar-stream's pack(), for tests of hostile or odd layers. */
import { pack } from 'tar-stream';

export interface TarItem {
  header: Record<string, unknown>;
  body?: string | Buffer;
}

export async function tarOf(entries: TarItem[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve) => {
    p.on('end', () => resolve());
  });
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      p.entry({ mtime: new Date(1_700_000_000_000), mode: 0o644, ...e.header } as never, e.body ?? '', (err) => (err ? reject(err) : resolve()));
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}
