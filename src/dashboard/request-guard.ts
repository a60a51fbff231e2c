import { timingSafeEqual } from "node:crypto";

// Who may talk to the dashboard, decided per request before any route runs (pure, so it
// is tested on its own). A request must name an allowed Host (a page on another name that
// resolves to 127.0.0.1 — DNS rebinding — is refused), carry the token, and, when it
// changes something, come from the dashboard's own page (Origin) with the token in a
// header a form on a foreign page cannot send. GET never changes state.

export interface GuardedRequest {
  method: string;
  /** The Host header as sent. */
  host: string | undefined;
  origin: string | undefined;
  /** The `token` query parameter. */
  queryToken: string | null;
  /** The X-Prodlike-Token header. */
  headerToken: string | undefined;
}

export interface GuardPolicy {
  token: string;
  /** Host headers the dashboard answers to: 127.0.0.1:PORT, localhost:PORT, the router's name. */
  hosts: readonly string[];
  /** Origins a change may come from (http://127.0.0.1:PORT…, https://prodlike.localhost). */
  origins: readonly string[];
}

export type GuardVerdict =
  | { allowed: true }
  | { allowed: false; status: 400 | 401 | 403; reason: string };

const SAFE_METHODS = new Set(["GET", "HEAD"]);

export function guard(request: GuardedRequest, policy: GuardPolicy): GuardVerdict {
  const host = request.host?.toLowerCase();
  if (!host || !policy.hosts.includes(host)) {
    return {
      allowed: false,
      status: 403,
      reason: `Host ${request.host ?? "(none)"} is not the dashboard`,
    };
  }
  if (SAFE_METHODS.has(request.method)) {
    const token = request.headerToken ?? request.queryToken ?? undefined;
    return sameToken(token, policy.token)
      ? { allowed: true }
      : { allowed: false, status: 401, reason: "The dashboard's token is missing or wrong" };
  }
  if (request.method !== "POST") {
    return { allowed: false, status: 400, reason: `${request.method} is not used here` };
  }
  if (!request.origin || !policy.origins.includes(request.origin.toLowerCase())) {
    return {
      allowed: false,
      status: 403,
      reason: `Origin ${request.origin ?? "(none)"} may not change anything here`,
    };
  }
  return sameToken(request.headerToken, policy.token)
    ? { allowed: true }
    : { allowed: false, status: 401, reason: "A change needs the token in X-Prodlike-Token" };
}

function sameToken(given: string | undefined | null, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The hosts and origins of a dashboard listening on 127.0.0.1:port, and through the
 *  local router when it routes there (https://prodlike.localhost[:PORT]). */
export function localPolicy(
  token: string,
  port: number,
  routed?: { host: string; origin: string },
): GuardPolicy {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  const origins = hosts.map((host) => `http://${host}`);
  if (routed) {
    hosts.push(routed.host);
    origins.push(routed.origin);
  }
  return { token, hosts, origins };
}

// The page loads only its own script and style, talks only to its own origin, is never
// framed, and sends no Referer (its URL carries the token) when a link is followed.
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; "),
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cache-Control": "no-store",
};
