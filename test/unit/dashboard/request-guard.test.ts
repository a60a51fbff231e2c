import { describe, expect, it } from "vitest";
import {
  type GuardedRequest,
  guard,
  localPolicy,
  SECURITY_HEADERS,
} from "../../../src/dashboard/request-guard.js";

const TOKEN = "a".repeat(64);
const policy = localPolicy(TOKEN, 4100, {
  host: "prodlike.localhost",
  origin: "https://prodlike.localhost",
});

function request(overrides: Partial<GuardedRequest>): GuardedRequest {
  return {
    method: "GET",
    host: "127.0.0.1:4100",
    origin: undefined,
    queryToken: TOKEN,
    headerToken: undefined,
    ...overrides,
  };
}

describe("the dashboard's request guard", () => {
  it("lets a read with the token through on the dashboard's own names", () => {
    for (const host of [
      "127.0.0.1:4100",
      "localhost:4100",
      "LOCALHOST:4100",
      "prodlike.localhost",
    ]) {
      expect(guard(request({ host }), policy), host).toEqual({ allowed: true });
    }
    expect(guard(request({ queryToken: null, headerToken: TOKEN }), policy).allowed).toBe(true);
  });

  it("refuses a foreign Host (DNS rebinding) before looking at the token", () => {
    for (const host of [
      "evil.example",
      "127.0.0.1:4101",
      "127.0.0.1",
      undefined,
      "prodlike.localhost.evil.example",
    ]) {
      const verdict = guard(request({ host }), policy);
      expect(verdict, String(host)).toMatchObject({ allowed: false, status: 403 });
    }
  });

  it("answers 401 without the right token", () => {
    for (const queryToken of [null, "", "b".repeat(64), TOKEN.slice(1), `${TOKEN}0`]) {
      expect(guard(request({ queryToken }), policy)).toMatchObject({ allowed: false, status: 401 });
    }
  });

  it("takes a change only as a POST from the page's own origin with the token in a header", () => {
    const post = (overrides: Partial<GuardedRequest>) =>
      guard(
        request({
          method: "POST",
          origin: "http://127.0.0.1:4100",
          headerToken: TOKEN,
          ...overrides,
        }),
        policy,
      );
    expect(post({})).toEqual({ allowed: true });
    expect(post({ origin: "https://prodlike.localhost" })).toEqual({ allowed: true });
    // A foreign page's form or fetch: its own Origin, or none.
    expect(post({ origin: "http://evil.example" })).toMatchObject({ status: 403 });
    expect(post({ origin: undefined })).toMatchObject({ status: 403 });
    expect(post({ origin: "null" })).toMatchObject({ status: 403 });
    // The token in the URL is not enough for a change.
    expect(post({ headerToken: undefined })).toMatchObject({ status: 401 });
    expect(guard(request({ method: "DELETE" }), policy)).toMatchObject({ status: 400 });
    expect(guard(request({ method: "PUT" }), policy)).toMatchObject({ status: 400 });
  });

  it("sends a strict Content Security Policy and no Referer", () => {
    const csp = SECURITY_HEADERS["Content-Security-Policy"] ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(SECURITY_HEADERS["Referrer-Policy"]).toBe("no-referrer");
  });
});
