import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { allocatePorts, probeLoopbackPort } from "../../../src/env/port-allocator.js";
import type { ProdlikeError } from "../../../src/errors/prodlike-error.js";

const requests = [
  { service: "web", name: "web", preferred: 8080 },
  { service: "db", name: "db", preferred: 13306 },
];
const allFree = async () => true;

describe("allocatePorts", () => {
  it("gives the preferred ports when free", async () => {
    expect(await allocatePorts(requests, { own: {}, others: new Set() }, allFree)).toEqual({
      web: 8080,
      db: 13306,
    });
  });

  it("keeps the ports the environment already has", async () => {
    // Its own ports are held by its own containers, so a probe would call them busy.
    const ports = await allocatePorts(
      requests,
      { own: { web: 8085, db: 13310 }, others: new Set() },
      async () => false,
    );
    expect(ports).toEqual({ web: 8085, db: 13310 });
  });

  it("keeps a stopped environment's ports while free, and chooses again one another program took", async () => {
    const taken = new Set([8085]);
    const ports = await allocatePorts(
      requests,
      { own: { web: 8085, db: 13310 }, ownStopped: new Set(["web", "db"]), others: new Set() },
      async (port) => !taken.has(port),
    );
    expect(ports).toEqual({ web: 8080, db: 13310 });
  });

  it("moves past ports that are busy or claimed by another environment", async () => {
    const busy = new Set([8080, 8081]);
    const ports = await allocatePorts(
      requests,
      { own: {}, others: new Set([8082, 13306]) },
      async (port) => !busy.has(port),
    );
    expect(ports).toEqual({ web: 8083, db: 13307 });
  });

  it("never hands out one port twice", async () => {
    const same = [
      { service: "a", name: "a", preferred: 9000 },
      { service: "b", name: "b", preferred: 9000 },
    ];
    expect(await allocatePorts(same, { own: {}, others: new Set() }, allFree)).toEqual({
      a: 9000,
      b: 9001,
    });
  });

  it("fails with a hint when the whole range is taken", async () => {
    const error = await allocatePorts(
      requests,
      { own: {}, others: new Set() },
      async () => false,
    ).catch((caught: unknown) => caught);
    expect((error as ProdlikeError).code).toBe("PORT_UNAVAILABLE");
    expect((error as ProdlikeError).hint).toContain("ports:");
  });
});

describe("probeLoopbackPort", () => {
  it("sees a port held by a real listener", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    try {
      expect(await probeLoopbackPort(address.port)).toBe(false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await probeLoopbackPort(address.port)).toBe(true);
  });
});
