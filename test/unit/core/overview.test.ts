import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { mailFromApi } from "../../../src/core/overview.js";
import { XdebugStateStore } from "../../../src/env/xdebug-state.js";

describe("the overview's parts", () => {
  it("reads the mail catcher's answer, whatever it holds", () => {
    expect(
      mailFromApi({
        total: 7,
        messages: [
          {
            Subject: "<script>alert(1)</script>",
            From: { Address: "shop@example.test" },
            Created: "2026-12-03T05:00:00Z",
          },
          { Subject: 42, From: null },
        ],
      }),
    ).toEqual({
      caught: 7,
      latest: [
        {
          subject: "<script>alert(1)</script>",
          from: "shop@example.test",
          at: "2026-12-03T05:00:00Z",
        },
        { subject: "", from: "", at: "" },
      ],
    });
    expect(mailFromApi({ messages: [{}, {}] })?.caught).toBe(2);
    expect(mailFromApi("nope")).toBeUndefined();
  });

  it("remembers Xdebug per environment and forgets it on removal", async () => {
    const store = new XdebugStateStore(
      path.join(await mkdtemp(path.join(os.tmpdir(), "xd-")), "x"),
    );
    expect(await store.all()).toEqual(new Map());
    await store.set("shop-local", true, new Date("2026-12-03T05:00:00Z"));
    await store.set("shop-qa", false, new Date("2026-12-03T05:00:00Z"));
    expect((await store.all()).get("shop-local")?.enabled).toBe(true);
    expect((await store.all()).get("shop-qa")?.enabled).toBe(false);
    await store.remove("shop-local");
    expect([...(await store.all()).keys()]).toEqual(["shop-qa"]);
  });
});
