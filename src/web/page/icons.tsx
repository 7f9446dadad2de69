/** Small inline SVG icons (no icon font, nothing fetched): one per entry type, drawn in currentColor. */
const P = { width: 14, height: 14, viewBox: '0 0 16 16', fill: 'none', stroke: 'currentColor', 'stroke-width': 1.4, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' } as const;

export function TypeIcon({ type, open, hardlink }: { type: string; open?: boolean; hardlink?: boolean }) {
  if (type === 'd') {
    return open ? (
      <svg {...P} aria-hidden="true">
        <path d="M1.5 4.5v8a1 1 0 0 0 1 1h10.2l1.8-6H4.3l-1.8 5" />
        <path d="M13 7.5v-2a1 1 0 0 0-1-1H7.5L6 3H2.5a1 1 0 0 0-1 1" />
      </svg>
    ) : (
      <svg {...P} aria-hidden="true">
        <path d="M1.5 4a1 1 0 0 1 1-1H6l1.5 1.5h6a1 1 0 0 1 1 1v7a1 1 0 0 1-1 1h-11a1 1 0 0 1-1-1z" />
      </svg>
    );
  }
  if (type === 'l')
    return (
      <svg {...P} aria-hidden="true">
        <path d="M3 13V9a3 3 0 0 1 3-3h7" />
        <path d="M10 3l3 3-3 3" />
      </svg>
    );
  if (hardlink)
    return (
      <svg {...P} aria-hidden="true">
        <path d="M6.5 9.5l3-3" />
        <path d="M7 4.5l1-1a2.5 2.5 0 0 1 3.5 3.5l-1 1" />
        <path d="M9 11.5l-1 1A2.5 2.5 0 0 1 4.5 9l1-1" />
      </svg>
    );
  if (type === 'f')
    return (
      <svg {...P} aria-hidden="true">
        <path d="M4 1.5h5l3.5 3.5v9a.5.5 0 0 1-.5.5H4a.5.5 0 0 1-.5-.5V2a.5.5 0 0 1 .5-.5z" />
        <path d="M9 1.5V5h3.5" />
      </svg>
    );
  if (type === 'c' || type === 'b')
    return (
      <svg {...P} aria-hidden="true">
        <rect x="2.5" y="4" width="11" height="8" rx="1" />
        <path d="M5 8h6" />
      </svg>
    );
  return (
    <svg {...P} aria-hidden="true">
      <circle cx="8" cy="8" r="5" />
    </svg>
  );
}

/** The chevron of a directory row. */
export function Chevron({ open }: { open: boolean }) {
  return (
    <svg width="10" height="10" viewBox="0 0 10 10" aria-hidden="true" style={{ transform: open ? 'rotate(90deg)' : 'none', transition: 'transform .12s' }}>
      <path d="M3 1.5L7 5 3 8.5" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}
