/**
 * A list that renders only the rows in view (plus a few above and below): a 20,000-entry directory
 * costs the DOM a few dozen rows. Rows have one fixed height, so the row under any scroll offset is
 * a division and the scrollbar is exact without measuring. Written here because the page needs
 * nothing more than this (a fixed-height window) and the list libraries for preact bring far more.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface VirtualListProps {
  count: number;
  rowHeight: number;
  /** Draws row `i` (the list positions it). */
  row: (i: number) => ComponentChildren;
  /** Called with the rows in view whenever they change (to fetch what is not loaded yet). */
  onRange?: (first: number, last: number) => void;
  /** Scrolls so that this row is visible (when it changes). */
  scrollTo?: number;
  overscan?: number;
  class?: string;
  label?: string;
  onKeyDown?: (e: KeyboardEvent) => void;
  testId?: string;
}

export function VirtualList(p: VirtualListProps) {
  const box = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  const over = p.overscan ?? 4;

  useLayoutEffect(() => {
    const el = box.current!;
    setHeight(el.clientHeight || 600);
    const ro = new ResizeObserver(() => setHeight(el.clientHeight || 600));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Keep the given row in view: scroll only as far as needed.
  useEffect(() => {
    const el = box.current;
    if (!el || p.scrollTo === undefined || p.scrollTo < 0) return;
    const y = p.scrollTo * p.rowHeight;
    if (y < el.scrollTop) el.scrollTop = y;
    else if (y + p.rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = y + p.rowHeight - el.clientHeight;
  }, [p.scrollTo, p.rowHeight]);

  const first = Math.max(0, Math.floor(top / p.rowHeight) - over);
  const last = Math.min(p.count - 1, Math.ceil((top + height) / p.rowHeight) + over);

  useEffect(() => {
    if (p.count > 0) p.onRange?.(first, last);
  }, [first, last, p.count]);

  // Rows are keyed by their slot in the window, not by index: when the window moves, the same DOM
  // rows are given new contents and positions instead of being removed and created again (a scroll
  // of a screen or more would otherwise rebuild every row, icons included, in one frame).
  const slots = last - first + 1;
  const rows: ComponentChildren[] = [];
  for (let i = first; i <= last; i++) {
    rows.push(
      <div key={i % Math.max(1, slots + 2 * over)} class="vrow" style={{ transform: `translateY(${i * p.rowHeight}px)`, height: `${p.rowHeight}px` }}>
        {p.row(i)}
      </div>,
    );
  }
  return (
    <div
      ref={box}
      class={`vlist ${p.class ?? ''}`}
      tabIndex={0}
      role="tree"
      aria-label={p.label}
      data-testid={p.testId}
      data-rows={p.count}
      onScroll={(e) => setTop((e.currentTarget as HTMLDivElement).scrollTop)}
      onKeyDown={p.onKeyDown}
    >
      <div class="vspace" style={{ height: `${p.count * p.rowHeight}px` }}>
        {rows}
      </div>
    </div>
  );
}
