import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { openSnapshotStore } from "../../../src/db/snapshots.js";
import { ExpiryStore } from "../../../src/env/expiry.js";
import { readState } from "../../../src/state/json-state.js";

// State files read back through their schema: missing, good, cut short, not JSON, another
// shape; and what two stores make of a damaged file (a lifetime is ignored, a snapshot
// asked for by name is SNAPSHOT_CORRUPT, never a crash further on).

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-state-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const schema = z.object({ id: z.string(), count: z.number() });

describe("readState", () => {
  it("tells a missing file, a good one and each kind of damage apart", async () => {
    const file = path.join(dir, "record.json");
    expect(await readState(file, schema)).toEqual({ kind: "missing" });
    await writeFile(file, JSON.stringify({ id: "a", count: 2 }));
    expect(await readState(file, schema)).toEqual({ kind: "ok", value: { id: "a", count: 2 } });
    for (const [text, reason] of [
      ['{"id": "a", "cou', /not JSON/],
      ["", /not JSON/],
      ["\u0000\u0001binary", /not JSON/],
      ['{"id": "a", "count": "two"}', /^count: /],
      ["[1, 2]", /top level/],
    ] as const) {
      await writeFile(file, text);
      const read = await readState(file, schema);
      expect(read.kind, text).toBe("invalid");
      if (read.kind === "invalid") {
        expect(read.file).toBe(file);
        expect(read.reason).toMatch(reason);
      }
    }
  });
});

describe("stores on a damaged file", () => {
  it("an expiry record cut short is no lifetime, never an expired one", async () => {
    const store = new ExpiryStore(dir);
    await store.set("shop-qa", 60_000, new Date(0));
    await writeFile(path.join(dir, "shop-other.json"), '{"envId": "shop-other", "ttl');
    await writeFile(
      path.join(dir, "shop-third.json"),
      JSON.stringify({ envId: "shop-third", ttlMs: 1, expiresAt: "yesterday" }),
    );
    expect([...(await store.all()).keys()]).toEqual(["shop-qa"]);
  });

  it("a snapshot whose record is damaged is not listed, and asked for by name is SNAPSHOT_CORRUPT", async () => {
    const store = openSnapshotStore({ PRODLIKE_HOME: dir }, "shop-local");
    const folder = path.join(dir, "snapshots", "shop-local", "nightly");
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, "snapshot.json"), '{"name": "nightly"');
    expect(await store.list()).toEqual([]);
    await expect(store.require("nightly")).rejects.toMatchObject({
      code: "SNAPSHOT_CORRUPT",
      message: expect.stringContaining("damaged record"),
    });
    await expect(store.require("missing")).rejects.toMatchObject({ code: "SNAPSHOT_NOT_FOUND" });
  });
});

describe("a cluster environment's record", () => {
  it("damaged, is STATE_INVALID naming the file and the way out; the listing leaves it out", async () => {
    const { EnvironmentRecords } = await import("../../../src/env/environment-records.js");
    const records = new EnvironmentRecords(dir);
    await mkdir(path.join(dir, "environments"), { recursive: true });
    await writeFile(path.join(dir, "environments", "shop-kind.json"), '{"id": "shop-kind", "cl');
    await expect(records.get("shop-kind")).rejects.toMatchObject({
      code: "STATE_INVALID",
      message: expect.stringContaining("shop-kind.json"),
      hint: expect.stringContaining("kind delete cluster --name prodlike-shop-kind"),
    });
    expect(await records.list()).toEqual([]);
    expect(await records.get("shop-other")).toBeUndefined();
  });
});
