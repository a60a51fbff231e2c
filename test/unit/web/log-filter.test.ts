import { describe, expect, it } from "vitest";
import type { LogLineView } from "../../../src/dashboard/wire.js";
import { ttlLeft } from "../../../web/src/format.js";
import { matcher } from "../../../web/src/log-filter.js";

const line = (service: string, level: LogLineView["level"], text: string): LogLineView => ({
  seq: 1,
  service,
  stream: "stdout",
  level,
  text,
});

describe("the page's log filter", () => {
  const lines = [
    line("web", "info", "GET /cart 200"),
    line("web", "error", "[error] upstream timed out"),
    line("php-fpm", "warn", "PHP Warning: Undefined index"),
    line("db", "debug", "query took 3 ms"),
  ];
  const shown = (filter: Parameters<typeof matcher>[0]) =>
    lines.filter(matcher(filter)).map((entry) => entry.text);

  it("keeps a service, a lowest level and a text (any case)", () => {
    expect(shown({ service: "", level: "debug", text: "", regex: false })).toHaveLength(4);
    expect(shown({ service: "web", level: "debug", text: "", regex: false })).toHaveLength(2);
    expect(shown({ service: "", level: "warn", text: "", regex: false })).toEqual([
      "[error] upstream timed out",
      "PHP Warning: Undefined index",
    ]);
    expect(shown({ service: "", level: "debug", text: "CART", regex: false })).toEqual([
      "GET /cart 200",
    ]);
  });

  it("takes a regular expression, and says when it is not one (showing everything)", () => {
    expect(shown({ service: "", level: "debug", text: "^(GET|PHP)", regex: true })).toHaveLength(2);
    const broken = matcher({ service: "", level: "debug", text: "(oops", regex: true });
    expect(broken.error).toMatch(/regular expression/i);
    expect(lines.filter(broken)).toHaveLength(4);
  });
});

describe("the page's lifetimes", () => {
  it("counts down, and says expired", () => {
    const now = Date.parse("2026-12-03T10:00:00Z");
    expect(ttlLeft("2026-12-03T14:30:00Z", now)).toBe("4h 30m");
    expect(ttlLeft("2026-12-03T10:20:00Z", now)).toBe("20m");
    expect(ttlLeft("2026-12-03T09:00:00Z", now)).toBe("expired");
    expect(ttlLeft(undefined, now)).toBe("");
  });
});
