import { ProdlikeError } from "../errors/prodlike-error.js";

// Lifetimes as people write them: `4h`, `90m`, `1h30m`, `2d`, `45s`.

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(?:\d+[smhd])+$/;

/** `--ttl`: a lifetime in ms; `never` (or `0`) for none. */
export function parseTtl(text: string, flag = "--ttl"): number | "never" {
  const value = text.trim().toLowerCase();
  if (value === "never" || value === "0") return "never";
  if (!DURATION.test(value)) {
    throw new ProdlikeError(
      "USAGE",
      `${flag} must be a duration like 4h, 90m or 1h30m, got \`${text}\``,
      {
        hint: "Units: s, m, h, d. `never` removes a lifetime set before.",
      },
    );
  }
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)([smhd])/g)) {
    total += Number(amount) * (UNIT_MS[unit ?? "s"] ?? 0);
  }
  if (total <= 0)
    throw new ProdlikeError("USAGE", `${flag} must be longer than 0, got \`${text}\``);
  return total;
}

/** The largest two units: `3h12m`, `2d4h`, `45s`. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.round(ms / 1000));
  const parts: string[] = [];
  for (const [unit, seconds] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    const amount = Math.floor(rest / seconds);
    rest -= amount * seconds;
    if (amount > 0 || (unit === "s" && parts.length === 0)) parts.push(`${amount}${unit}`);
    if (parts.length === 2) break;
  }
  return parts.join("");
}
