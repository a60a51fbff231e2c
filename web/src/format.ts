// Small text helpers for the page.

export function ago(iso: string, now: number): string {
  return span(now - Date.parse(iso));
}

export function span(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h${minutes % 60 ? ` ${minutes % 60}m` : ""}`;
  return `${Math.floor(hours / 24)}d`;
}

export function bytes(value: number | undefined): string {
  if (value === undefined) return "–";
  if (value < 1024 ** 2) return `${(value / 1024).toFixed(0)} KiB`;
  if (value < 1024 ** 3) return `${(value / 1024 ** 2).toFixed(0)} MiB`;
  return `${(value / 1024 ** 3).toFixed(1)} GiB`;
}

/** A lifetime left, or "expired"; nothing when the environment has none. */
export function ttlLeft(expiresAt: string | undefined, now: number): string {
  if (!expiresAt) return "";
  const left = Date.parse(expiresAt) - now;
  return left <= 0 ? "expired" : span(left);
}
