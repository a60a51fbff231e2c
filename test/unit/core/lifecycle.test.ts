import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import { SleepRecords, sleepVolumeName } from "../../../src/backends/docker/sleep-records.js";
import { routedBytes } from "../../../src/backends/docker/traffic.js";
import { lifetimeChange } from "../../../src/cli/commands/lifecycle.js";
import { formatList } from "../../../src/cli/format.js";
import { checkInterval } from "../../../src/core/waker.js";
import { IdleStore } from "../../../src/env/idle.js";
import { KeptStore } from "../../../src/env/kept.js";
import { ProdlikeError } from "../../../src/errors/prodlike-error.js";
import { Label } from "../../../src/topology/labels.js";
import { FakeEngine } from "../../support/fake-engine.js";

const plainColour = new Chalk({ level: 0 });

describe("lifetime changes (prodlike ttl)", () => {
  it("reads +DURATION as an extension, DURATION as a lifetime from now, never as none", () => {
    expect(lifetimeChange("+4h")).toEqual({ extendMs: 4 * 3_600_000 });
    expect(lifetimeChange("90m")).toEqual({ setMs: 90 * 60_000 });
    expect(lifetimeChange("never")).toBe("never");
  });

  it("refuses anything else as a usage error", () => {
    for (const bad of ["+never", "+", "4 hours", "-4h"]) {
      expect(() => lifetimeChange(bad), bad).toThrow(ProdlikeError);
    }
  });
});

describe("KeptStore", () => {
  it("keeps and lets go of environments; a damaged record still counts as kept", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-kept-"));
    const store = new KeptStore(dir);
    await store.keep("shop-qa1", new Date("2026-12-03T08:00:00Z"));
    await store.keep("shop-qa2", new Date("2026-12-03T09:00:00Z"));
    await store.remove("shop-qa2");
    await writeFile(path.join(dir, "shop-qa3.json"), "{ cut");
    const kept = await store.all();
    expect([...kept.keys()].sort()).toEqual(["shop-qa1", "shop-qa3"]);
    expect(kept.get("shop-qa1")?.keptAt).toBe("2026-12-03T08:00:00.000Z");
  });

  it("has nothing kept before the first keep", async () => {
    const store = new KeptStore(path.join(os.tmpdir(), `prodlike-kept-none-${process.pid}`));
    expect(await store.all()).toEqual(new Map());
  });
});

describe("SleepRecords", () => {
  it("marks an environment asleep on the engine, labelled as its own, and clears it", async () => {
    const engine = new FakeEngine();
    const records = new SleepRecords(engine);
    await records.mark({ envId: "shop-qa1", since: "2026-12-03T08:00:00.000Z", reason: "idle" });
    expect(
      engine.volumes.find((volume) => volume.name === sleepVolumeName("shop-qa1"))?.labels,
    ).toMatchObject({
      [Label.env]: "shop-qa1",
      [Label.managed]: "true",
    });
    expect(await records.all()).toEqual(
      new Map([
        ["shop-qa1", { envId: "shop-qa1", since: "2026-12-03T08:00:00.000Z", reason: "idle" }],
      ]),
    );
    await records.clear("shop-qa1");
    expect(await records.all()).toEqual(new Map());
  });

  it("marked again, names the waker given now", async () => {
    const engine = new FakeEngine();
    const records = new SleepRecords(engine);
    const asleep = {
      envId: "shop-qa1",
      since: "2026-12-03T08:00:00.000Z",
      reason: "idle",
    } as const;
    await records.mark({ ...asleep, waker: "172.30.0.1:40000", hosts: ["qa1.shop.localhost"] });
    await records.mark({ ...asleep, waker: "172.30.0.1:41000", hosts: ["qa1.shop.localhost"] });
    expect((await records.all()).get("shop-qa1")?.waker).toBe("172.30.0.1:41000");
  });
});

describe("ls", () => {
  it("shows kept environments and sleeping ones", () => {
    const now = Date.parse("2026-12-03T10:00:00Z");
    const base = {
      project: "shop",
      backend: "compose" as const,
      preset: "drupal",
      codeRoot: "/home/dev/shop",
      services: [],
      urls: {},
      createdAt: "2026-12-03T09:00:00Z",
    };
    const text = formatList(
      [
        {
          ...base,
          id: "shop-qa1",
          name: "qa1",
          state: "running",
          kept: true,
          expiresAt: "2026-12-03T12:00:00Z",
        },
        {
          ...base,
          id: "shop-qa2",
          name: "qa2",
          state: "sleeping",
          sleeping: { since: "2026-12-03T09:30:00Z", reason: "command" },
        },
      ],
      plainColour,
      now,
    );
    expect(text).toMatch(/shop-qa1\s+compose\s+1h\s+kept \(2h left\)\s+running/);
    expect(text).toMatch(/shop-qa2\s+compose\s+1h\s+-\s+sleeping/);
  });
});

describe("idle environments", () => {
  it("are watched every 30 s, more often for a short idle time, never more than once a second", () => {
    expect(checkInterval([])).toBe(30_000);
    expect(checkInterval([{ envId: "a", idleMs: 2 * 3_600_000 }])).toBe(30_000);
    expect(
      checkInterval([
        { envId: "a", idleMs: 20_000 },
        { envId: "b", idleMs: 3_600_000 },
      ]),
    ).toBe(5_000);
    expect(checkInterval([{ envId: "a", idleMs: 1_000 }])).toBe(1_000);
  });

  it("keep their idle time in the state folder; a damaged record watches nothing", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-idle-"));
    const store = new IdleStore(dir);
    await store.set("shop-qa1", 7_200_000);
    await store.set("shop-qa2", 60_000);
    await store.remove("shop-qa2");
    await writeFile(path.join(dir, "shop-qa3.json"), "{ cut");
    expect(await store.all()).toEqual([{ envId: "shop-qa1", idleMs: 7_200_000 }]);
  });
});

describe("routedBytes", () => {
  it("sums what the routed containers but the mail catcher received; undefined when none runs", async () => {
    const engine = new FakeEngine();
    const base = {
      name: "x",
      health: "none" as const,
      image: "i",
      imageId: "i",
      ports: [],
      createdAt: 0,
      networks: [],
    };
    engine.containers.push(
      {
        ...base,
        id: "web",
        state: "running",
        labels: { [Label.env]: "shop-qa1", [Label.routes]: "qa1.shop.localhost=80" },
      },
      {
        ...base,
        id: "mail",
        state: "running",
        labels: {
          [Label.env]: "shop-qa1",
          [Label.role]: "mail",
          [Label.routes]: "mail.qa1.shop.localhost=8025",
        },
      },
      { ...base, id: "db", state: "running", labels: { [Label.env]: "shop-qa1" } },
      {
        ...base,
        id: "other",
        state: "exited",
        labels: { [Label.env]: "shop-qa2", [Label.routes]: "qa2.shop.localhost=80" },
      },
    );
    engine.received.set("web", 1000).set("mail", 24).set("db", 99_999);
    expect(await routedBytes(engine, "shop-qa1")).toBe(1000);
    expect(await routedBytes(engine, "shop-qa2")).toBeUndefined();
  });
});
