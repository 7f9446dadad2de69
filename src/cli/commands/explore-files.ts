/**
 * `layerfs cat`, `find`, `diff-images`, `export`, `export-layer`: files out of an image, and two images
 * compared.
 */
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import type { Engine } from '../../engine/engine.js';
import { decodePrinted } from '../../archive/names.js';
import { fsError, StateError } from '../../core/errors.js';
import type { Command } from 'commander';
import { humanSize, paint, parseSize, printJson, UsageError } from '../output.js';
import { stdoutSink } from './cp.js';
import { globals, layerArg, openStack, viewAt } from './explore-common.js';
import { io } from '../io.js';

const IMAGE = 'archive path, OCI layout, or tag/id of a stored image';

/**
 * `pathBytes` (README: "Names that are not UTF-8"): where the printed path is escaped (a byte that
 * is not UTF-8, a backslash, tab, newline or control character), the raw bytes of the path, in
 * base64, beside it; a script decodes that, never the escapes.
 */
export function pathBytes(r: { path: string; key: Buffer }): { pathBytes?: string } {
  return r.path === r.key.toString('utf8') ? {} : { pathBytes: r.key.toString('base64') };
}

/** Writes a byte source to a file in 1 MiB chunks. */
function writeSource(src: { size: number; read(b: Uint8Array, o: number, l: number, p: number): number }, dest: string): number {
  const fd = openSync(dest, 'w');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = 0;
    while (pos < src.size) {
      const n = src.read(buf, 0, Math.min(buf.length, src.size - pos), pos);
      if (n <= 0) throw new Error(`${dest}: the layer's data ended after ${pos} of ${src.size} bytes`);
      for (let w = 0; w < n; ) w += writeSync(fd, buf, w, n - w);
      pos += n;
    }
    return pos;
  } finally {
    closeSync(fd);
  }
}

export function registerFiles(program: Command): void {
  program
    .command('cat')
    .argument('<image>', IMAGE)
    .argument('<path>', 'file in the image (symlinks are followed inside the image)')
    .description("print a file's bytes")
    .option('--tag <tag>', 'which image, when the archive holds several')
    .option('--layer <n>', 'as it was after the first N layers')
    .action(async (ref: string, path: string, opts: { tag?: string; layer?: string }, cmd: Command) => {
      const stack = await openStack(ref, cmd, { tag: opts.tag });
      try {
        const n = layerArg(opts.layer, stack, '--layer') ?? stack.count;
        const abs = path.startsWith('/') ? path : `/${path}`;
        let data: Buffer;
        const fs = (await viewAt(stack, n)).fs;
        try {
          // The path as typed, else as ls/find print it (`\xHH` for a byte that is not UTF-8).
          const printed = decodePrinted(abs);
          data = (printed !== abs && !fs.existsSync(abs) ? fs.readFileSync(printed) : fs.readFileSync(abs)) as Buffer;
        } catch (e) {
          // The error names the path asked for (a read of a directory has none of its own).
          const err = e as NodeJS.ErrnoException;
          if (typeof err.code === 'string' && err.path === undefined) throw fsError(err.code, err.syscall ?? 'read', abs);
          throw e;
        }
        await new Promise<void>((resolve, reject) => io().stdout.write(data, (e) => (e ? reject(e) : resolve())));
      } finally {
        stack.image.close();
      }
    });

  program
    .command('find')
    .argument('<image>', IMAGE)
    .description('regular files, largest first')
    .option('--tag <tag>', 'which image, when the archive holds several')
    .option('--layer <n>', 'as it was after the first N layers')
    .option('--larger-than <size>', 'only files strictly larger than SIZE (10M, 1.5G, 2048)')
    .option('--name <glob>', 'only base names matching GLOB (* ? [..]); a GLOB with / matches the whole path')
    .action(async (ref: string, opts: { tag?: string; layer?: string; largerThan?: string; name?: string }, cmd: Command) => {
      const { out } = globals(cmd);
      const largerThan = opts.largerThan === undefined ? undefined : parseSize(opts.largerThan);
      const stack = await openStack(ref, cmd, { tag: opts.tag });
      try {
        const n = layerArg(opts.layer, stack, '--layer') ?? stack.count;
        const { findFiles } = await import('../../explore/find.js');
        const found = findFiles(stack.rows(n).values(), { largerThan, name: opts.name });
        if (out.json) return printJson(found.map((r) => ({ path: r.path, ...pathBytes(r), size: r.size, layer: r.layer })));
        const text = found.map((r) => `${humanSize(r.size).padStart(9)}  ${r.path}  ${paint(out, 'dim', `(layer ${r.layer})`)}`).join('\n');
        if (text) io().stdout.write(text + '\n');
      } finally {
        stack.image.close();
      }
    });

  // `diff CONTAINER` is the container command (docker diff); two images are compared here.
  program
    .command('diff-images')
    .argument('<image-a>', IMAGE)
    .argument('<image-b>', IMAGE)
    .description("what differs between two images (flattened): A added, C changed, D deleted (podman diff's words)")
    .addHelpText(
      'after',
      `
Compares the flattened filesystems path by path with the rules of the fixtures' changes.py:
C lists the fields that differ (type mode owner content target linkgroup xattrs). Directories are
compared too; a removed directory lists every path below it.`,
    )
    .action((refA: string, refB: string, _opts: unknown, cmd: Command) => imagesDiff(refA, refB, cmd));

  program
    .command('export')
    .argument('<image-or-container>', `${IMAGE}, or a container name or id`)
    .description("write the flattened filesystem of an image or a container as one tar (docker export: a container's volumes are not in it)")
    .requiredOption('-o, --output <file>', 'the tar to write (- for stdout)')
    .option('--tag <tag>', 'which image, when the archive holds several')
    .action(async (ref: string, opts: { output: string; tag?: string }, cmd: Command) => {
      const { out, home } = globals(cmd);
      // `-o -` writes the tar to stdout (docker export's default); the report then goes to stderr.
      const toStdout = opts.output === '-';
      const dest = () => (toStdout ? stdoutSink() : opts.output);
      const report = (written: object) => {
        if (out.json) (toStdout ? (v: unknown) => io().stderr.write(JSON.stringify(v) + '\n') : printJson)({ output: opts.output, ...written });
        else if (!toStdout) io().stderr.write(`wrote ${opts.output}\n`);
      };
      // DKR-14: a container exports what lies under its mounts, never a volume's content.
      const container = existsSync(ref) ? undefined : await findContainer(home, ref);
      if (container) {
        const c = await container.engine.open(container.id, { start: false });
        try {
          const written = await c.view.export(dest());
          report(written);
        } finally {
          c.dispose();
        }
        return;
      }
      const stack = await openStack(ref, cmd, { tag: opts.tag });
      try {
        const { View } = await import('../../view.js');
        const written = await View.fromImage(stack.image, { readOnly: true }).export(dest());
        report(written);
      } finally {
        stack.image.close();
      }
    });

  program
    .command('export-layer')
    .argument('<image>', IMAGE)
    .argument('<n>', 'layer number, 1 = the base layer')
    .description('write layer N as stored, uncompressed (its sha256 is the diff_id)')
    .requiredOption('-o, --output <file>', 'the tar to write')
    .option('--tag <tag>', 'which image, when the archive holds several')
    .action(async (ref: string, nText: string, opts: { output: string; tag?: string }, cmd: Command) => {
      const { out } = globals(cmd);
      if (!/^\d+$/.test(nText)) throw new UsageError(`N must be a layer number, got ${JSON.stringify(nText)}`);
      const stack = await openStack(ref, cmd, { tag: opts.tag });
      try {
        const n = layerArg(nText, stack, 'N', 1)!;
        const layer = stack.image.layers[n - 1];
        const bytes = writeSource(layer.tar, opts.output);
        if (out.json) printJson({ output: opts.output, layer: n, bytes, diffId: layer.diffId });
        else io().stderr.write(`wrote ${opts.output}: layer ${n}, ${bytes} bytes, ${layer.diffId}\n`);
      } finally {
        stack.image.close();
      }
    });
}

/** The container called `ref` in the state directory, if there is one. */
async function findContainer(home: string | undefined, ref: string): Promise<{ engine: Engine; id: string } | undefined> {
  const { Engine } = await import('../../engine/engine.js');
  const engine = await Engine.open({ home });
  try {
    return { engine, id: (await engine.state.resolveContainer(ref)).id };
  } catch (e) {
    if (e instanceof StateError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
}

/** diff-images A B (and diff A B): what differs between two flattened images. */
export async function imagesDiff(refA: string, refB: string, cmd: Command): Promise<void> {
  const { out } = globals(cmd);
  const a = await openStack(refA, cmd);
  try {
    const b = await openStack(refB, cmd);
    try {
      const { changeLine, compareRows, diffJson } = await import('../../explore/changes.js');
      const changes = compareRows(a.rows(), b.rows());
      // One diff shape for containers and images (docs/json.md): podman's A/C/D; a changed path
      // also lists the fields that differ.
      if (out.json) return printJson(diffJson(changes));
      const style = { A: 'green', D: 'red', M: 'yellow' } as const;
      const lines = changes.map((c) => {
        const size =
          c.kind === 'M'
            ? c.before!.type === 'f' || c.after!.type === 'f'
              ? `  ${humanSize(c.before!.size)} -> ${humanSize(c.after!.size)}`
              : ''
            : (c.after ?? c.before)!.type === 'f'
              ? `  ${humanSize((c.after ?? c.before)!.size)}`
              : '';
        return paint(out, style[c.kind], changeLine(c).replace(/^M /, 'C ')) + size;
      });
      const sum = (k: string): number => changes.filter((c) => c.kind === k).length;
      lines.push(`${sum('A')} added, ${sum('D')} removed, ${sum('M')} changed`);
      io().stdout.write(lines.join('\n') + '\n');
    } finally {
      b.image.close();
    }
  } finally {
    a.image.close();
  }
}
