// Words for the approval screen: sizes (human and exact), a request's age against the station's
// window, and a request's format options. Pure functions (tested through the screen).

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

/** "1.5 MiB" (binary units); bytes below 1 KiB as "512 bytes". */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${UNITS[unit]}`;
}

/** "1,572,864 bytes": the exact count, grouped. */
export function exactSize(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} byte${bytes === 1 ? '' : 's'}`;
}

/** A duration in the largest unit that keeps it readable: "45 s", "12 min", "3 h", "2 d". */
export function duration(seconds: number): string {
  const s = Math.abs(seconds);
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** "created 3 h ago, window 24 h" (or "dated 10 min in the future, window 24 h"). */
export function requestAge(ageSeconds: number, maxAgeSeconds: number): string {
  const when = ageSeconds < 0 ? `dated ${duration(ageSeconds)} in the future` : `created ${duration(ageSeconds)} ago`;
  return `${when}, window ${duration(maxAgeSeconds)}`;
}

/** The window choices the screen offers, in hours (the default first after the shorter ones). */
export const WINDOW_CHOICES: readonly { readonly hours: number; readonly label: string }[] = [
  { hours: 1, label: '1 hour' },
  { hours: 12, label: '12 hours' },
  { hours: 24, label: '24 hours (default)' },
  { hours: 72, label: '3 days' },
  { hours: 168, label: '7 days' },
];
