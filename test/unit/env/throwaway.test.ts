import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import { describeLifetime, formatList } from "../../../src/cli/format.js";
import { parseSeedFrom } from "../../../src/core/seed.js";
import { ExpiryStore, expiredAmong } from "../../../src/env/expiry.js";
import { ProdlikeError } from "../../../src/errors/prodlike-error.js";
import { formatDuration, parseTtl } from "../../../src/ui/duration.js";

const plainColour = new Chalk({ level: 0 });

describe("parseTtl", () => {
  it("reads the durations people write", () => {
    expect(parseTtl("4h")).toBe(4 * 3_600_000);
    expect(parseTtl("90m")).toBe(90 * 60_000);
    expect(parseTtl("1h30m")).toBe(90 * 60_000);
    expect(parseTtl("2d")).toBe(2 * 86_400_000);
    expect(parseTtl("45s")).toBe(45_000);
    expect(parseTtl("never")).toBe("never");
    expect(parseTtl("0")).toBe("never");
  });

  it("refuses anything else as a usage error naming the flag", () => {
    for (const bad of ["4", "4 hours", "-1h", "h", "0h", "1.5h", ""]) {
      const error = (() => {
        try {
          parseTtl(bad);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error, bad).toBeInstanceOf(ProdlikeError);
      expect((error as ProdlikeError).code).toBe("USAGE");
      expect((error as ProdlikeError).message).toContain("--ttl");
    }
  });
});

describe("formatDuration", () => {
  it("shows the two largest units", () => {
    expect(formatDuration(3 * 3_600_000 + 12 * 60_000 + 5_000)).toBe("3h12m");
    expect(formatDuration(2 * 86_400_000 + 4 * 3_600_000)).toBe("2d4h");
    expect(formatDuration(45_000)).toBe("45s");
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(-5)).toBe("0s");
  });
});

describe("lifetimes", () => {
  const now = new Date("2026-11-22T12:00:00Z");
  const env = (id: string) => ({ id });

  it("finds only the environments whose lifetime is over, oldest first", async () => {
    const store = new ExpiryStore(await mkdtemp(path.join(os.tmpdir(), "prodlike-expiry-")));
    await store.set("shop-qa-1", 3_600_000, new Date("2026-11-22T10:00:00Z")); // 11:00: over
    await store.set("shop-qa-2", 3_600_000, new Date("2026-11-22T11:30:00Z")); // 12:30: not yet
    await store.set("shop-qa-3", 60_000, new Date("2026-11-22T09:00:00Z")); // 09:01: over
    await store.set("shop-qa-4", 60_000, new Date("2026-11-22T11:59:00Z")); // exactly now: over
    const expired = expiredAmong(
      [env("shop-local"), env("shop-qa-1"), env("shop-qa-2"), env("shop-qa-3"), env("shop-qa-4")],
      await store.all(),
      now,
    );
    expect(expired.map((entry) => entry.id)).toEqual(["shop-qa-3", "shop-qa-1", "shop-qa-4"]);
  });

  it("treats an unreadable record as no lifetime, never as expired", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-expiry-"));
    await writeFile(path.join(dir, "shop-qa-9.json"), "{ not json");
    const store = new ExpiryStore(dir);
    expect(expiredAmong([env("shop-qa-9")], await store.all(), now)).toEqual([]);
  });

  it("removes a record, leaving no partial file behind", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-expiry-"));
    const store = new ExpiryStore(dir);
    await store.set("shop-qa-1", 1000, now);
    expect(await readdir(dir)).toEqual(["shop-qa-1.json"]);
    await store.remove("shop-qa-1");
    expect(await readdir(dir)).toEqual([]);
  });

  it("describes the time left", () => {
    expect(describeLifetime(undefined, now.getTime())).toBe("-");
    expect(describeLifetime("2026-11-22T15:12:00Z", now.getTime())).toBe("3h12m left");
    expect(describeLifetime("2026-11-22T11:00:00Z", now.getTime())).toBe("expired");
  });
});

describe("formatList", () => {
  it("shows name, backend, age, TTL, state and URLs", () => {
    const base = {
      project: "shop",
      backend: "compose" as const,
      preset: "drupal",
      codeRoot: "/code",
      state: "running" as const,
      services: [],
      createdAt: "2026-11-22T11:00:00Z",
    };
    const text = formatList(
      [
        { ...base, id: "shop-local", name: "local", urls: { web: "http://127.0.0.1:8080" } },
        {
          ...base,
          id: "shop-qa-1",
          name: "qa-1",
          urls: { web: "http://127.0.0.1:8081" },
          expiresAt: "2026-11-22T16:00:00Z",
        },
      ],
      plainColour,
      Date.parse("2026-11-22T12:00:00Z"),
    );
    expect(text.split("\n")).toEqual([
      "ENVIRONMENT  BACKEND  AGE  TTL      STATE    PRESET  URLS",
      "shop-local   compose  1h   -        running  drupal  http://127.0.0.1:8080",
      "shop-qa-1    compose  1h   4h left  running  drupal  http://127.0.0.1:8081",
    ]);
  });
});

describe("parseSeedFrom", () => {
  it("reads ENV and ENV:SNAPSHOT", () => {
    expect(parseSeedFrom("local")).toEqual({ environment: "local" });
    expect(parseSeedFrom("local:before-release")).toEqual({
      environment: "local",
      snapshot: "before-release",
    });
  });

  it("refuses an empty part or a second colon", () => {
    for (const bad of ["", ":snap", "local:", "a:b:c"]) {
      expect(() => parseSeedFrom(bad), bad).toThrow(/--seed-from must be ENV or ENV:SNAPSHOT/);
    }
  });
});
