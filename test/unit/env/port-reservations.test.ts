import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PortReservations } from "../../../src/env/port-reservations.js";

const dir = () => mkdtemp(path.join(os.tmpdir(), "prodlike-ports-"));

describe("PortReservations", () => {
  it("keeps a port another live up reserved from everyone else", async () => {
    const shared = await dir();
    const qa1 = new PortReservations(shared, "shop-qa-1");
    const qa2 = new PortReservations(shared, "shop-qa-2");
    expect(await qa1.reserve([8081, 13307])).toEqual([]);
    expect(await qa2.heldByOthers()).toEqual(new Set([8081, 13307]));
    expect(await qa2.reserve([8081, 8082])).toEqual([8081]);
    // Its own reservations are not in its way.
    expect(await qa1.reserve([8081])).toEqual([]);
    expect([...(await qa1.heldByOthers())]).toEqual([8082]);
  });

  it("ignores reservations of an up that has ended or that are too old", async () => {
    const shared = await dir();
    const dead = { envId: "shop-qa-9", pid: 2 ** 22 + 12345, at: Date.now() };
    await writeFile(path.join(shared, "8090"), JSON.stringify(dead));
    const old = { envId: "shop-qa-8", pid: process.pid, at: Date.now() - 60 * 60_000 };
    await writeFile(path.join(shared, "8091"), JSON.stringify(old));
    await writeFile(path.join(shared, "8092"), "not json");
    const qa = new PortReservations(shared, "shop-qa-1");
    expect(await qa.heldByOthers()).toEqual(new Set());
    expect(await qa.reserve([8090, 8091, 8092])).toEqual([]);
  });
});
