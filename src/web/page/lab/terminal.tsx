/**
 * The terminal panel: one line at a time for the container's shell (POST …/exec), with history on
 * ↑/↓; the output of each command, then what it did to the layers, as the union recorded it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { describe } from './stack-picture';
import type { LogLine } from './store';

interface Props {
  name: string;
  lines: LogLine[];
  busy: boolean;
  cwd: string;
  onRun: (command: string) => void;
  disabled?: string;
}

export function Terminal({ name, lines, busy, cwd, onRun, disabled }: Props) {
  const [text, setText] = useState('');
  const [hist, setHist] = useState<string[]>([]);
  const [at, setAt] = useState(-1);
  const out = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    out.current?.scrollTo({ top: out.current.scrollHeight });
  }, [lines.length]);

  const key = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && text.trim() && !busy) {
      onRun(text);
      setHist([...hist, text]);
      setAt(-1);
      setText('');
    } else if (e.key === 'ArrowUp' && hist.length) {
      const i = at < 0 ? hist.length - 1 : Math.max(0, at - 1);
      setAt(i);
      setText(hist[i]);
      e.preventDefault();
    } else if (e.key === 'ArrowDown' && at >= 0) {
      const i = at + 1;
      setAt(i >= hist.length ? -1 : i);
      setText(i >= hist.length ? '' : hist[i]);
      e.preventDefault();
    }
  };

  return (
    <div class="term" data-testid="terminal" onClick={() => input.current?.focus()}>
      <div class="tout" ref={out} aria-live="polite">
        {lines.length === 0 && <div class="muted">Type a command: ls -l /etc · cat FILE · echo hi &gt;&gt; FILE · chmod 600 FILE · rm FILE · help</div>}
        {lines.map((l) => (
          <div key={l.id} class="tcmd">
            {l.action ? (
              <div class="taction">— {l.command}</div>
            ) : (
              <>
                <div>
                  <span class="prompt">
                    {name}:{l.cwd}$
                  </span>{' '}
                  {l.command}
                </div>
                {l.stdout && <pre class="stdout">{l.stdout}</pre>}
                {l.stderr && (
                  <pre class="stderr">
                    {l.stderr
                      .split('\n')
                      .filter((s) => s && !s.startsWith('copied up '))
                      .join('\n')}
                  </pre>
                )}
                {l.events.map((e, i) => (
                  <div key={i} class={`tev ev-${e.kind}`} data-testid="event">
                    ↳ {describe(e)}
                  </div>
                ))}
                {l.status !== 0 && <div class="tstatus">exit status {l.status}</div>}
              </>
            )}
          </div>
        ))}
      </div>
      <div class="tin">
        <span class="prompt">
          {name}:{cwd}$
        </span>
        <input
          ref={input}
          value={text}
          disabled={!!disabled}
          placeholder={disabled ?? ''}
          aria-label="shell command"
          data-testid="command"
          spellcheck={false}
          autocomplete="off"
          onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
          onKeyDown={key}
        />
      </div>
    </div>
  );
}
