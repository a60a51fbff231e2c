import { describe, expect, it } from "vitest";
import { ImageClaims } from "../../../../src/backends/docker/image-claims.js";
import { ClaimLabel, MachineClaims } from "../../../../src/backends/docker/machine-claims.js";
import { acquireMachineLock } from "../../../../src/backends/docker/machine-lock.js";
import { PortReservations } from "../../../../src/backends/docker/port-reservations.js";
import type { LockHolder } from "../../../../src/env/lock.js";
import { systemClock } from "../../../../src/waits/clock.js";
import { FakeClock } from "../../../support/fake-clock.js";
import { FakeEngine } from "../../../support/fake-engine.js";

// The claims every user of one engine shares, on an in-memory engine that keeps one
// volume per name as Docker does. Processes are told apart by pid: `dead` pids are gone.

function claimsOn(engine: FakeEngine, options: { uid?: number; dead?: Set<number> } = {}) {
  return new MachineClaims({
    engine,
    clock: systemClock,
    uid: options.uid ?? 1000,
    isRunning: (holder: LockHolder) => !(options.dead ?? new Set()).has(holder.pid),
  });
}

/** A claim another process made: labels as that process would have written them. */
function foreignClaim(
  engine: FakeEngine,
  name: string,
  labels: Partial<Record<keyof typeof ClaimLabel, string>>,
) {
  engine.volumes.push({
    name,
    labels: Object.fromEntries(
      Object.entries({
        kind: "ports",
        pid: "4242",
        expires: String(Date.now() + 60_000),
        uid: "1001",
        ...labels,
      }).map(([key, value]) => [ClaimLabel[key as keyof typeof ClaimLabel], value]),
    ),
  });
}

describe("PortReservations over the engine's claims", () => {
  it("keeps a port another live up reserved from everyone else, of any user", async () => {
    const engine = new FakeEngine();
    const qa1 = new PortReservations(claimsOn(engine, { uid: 1000 }), "shop-qa-1");
    const qa2 = new PortReservations(claimsOn(engine, { uid: 1001 }), "blog-qa-2");
    expect(await qa1.reserve([8081, 13307])).toEqual([]);
    expect(await qa2.heldByOthers()).toEqual(new Set([8081, 13307]));
    expect(await qa2.reserve([8081, 8082])).toEqual([8081]);
    // A reservation that lost holds nothing.
    expect(await qa1.heldByOthers()).toEqual(new Set());
    // Its own reservation is not in its way; released, it is gone for everyone.
    expect(await qa1.reserve([8081])).toEqual([]);
    await qa1.release();
    expect(await qa2.heldByOthers()).toEqual(new Set());
    expect(engine.volumes.filter((volume) => volume.name.startsWith("prodlike-claim"))).toEqual([]);
  });

  it("ignores, and removes, claims whose process is gone or whose time is up", async () => {
    const engine = new FakeEngine();
    foreignClaim(engine, "prodlike-claim-ports-dead", { env: "x-a", items: "8090", pid: "77" });
    foreignClaim(engine, "prodlike-claim-ports-old", {
      env: "x-b",
      items: "8091",
      expires: String(Date.now() - 1),
    });
    foreignClaim(engine, "prodlike-claim-ports-live", { env: "x-c", items: "8092" });
    engine.volumes.push({
      name: "prodlike-claim-ports-junk",
      labels: { [ClaimLabel.kind]: "ports" },
    });
    const qa = new PortReservations(claimsOn(engine, { dead: new Set([77]) }), "shop-qa-1");
    expect(await qa.heldByOthers()).toEqual(new Set([8092]));
    expect(engine.volumes.map((volume) => volume.name)).toEqual(["prodlike-claim-ports-live"]);
    expect(engine.removed).toContain("volume prodlike-claim-ports-dead");
  });

  it("never lets two reservations made at the same moment both hold a port", async () => {
    const engine = new FakeEngine();
    // Both made before either looks: each sees the other and both step back.
    const a = claimsOn(engine);
    const b = claimsOn(engine);
    const mineA = await a.make("ports", { envId: "p-a", items: ["8080"], ttlMs: 60_000 });
    const mineB = await b.make("ports", { envId: "p-b", items: ["8080"], ttlMs: 60_000 });
    expect((await a.others("ports", { mine: mineA })).map((claim) => claim.envId)).toEqual(["p-b"]);
    expect((await b.others("ports", { mine: mineB })).map((claim) => claim.envId)).toEqual(["p-a"]);
    // Through the reservations: both conflicts, neither holds.
    const engine2 = new FakeEngine();
    const ra = new PortReservations(claimsOn(engine2), "p-a");
    const rb = new PortReservations(claimsOn(engine2), "p-b");
    const [ca, cb] = await Promise.all([ra.reserve([8080]), rb.reserve([8080])]);
    expect(ca.length + cb.length).toBeGreaterThan(0);
  });
});

describe("acquireMachineLock", () => {
  it("lets one holder in at a time, and the next once it released", async () => {
    const engine = new FakeEngine();
    const clock = new FakeClock();
    const first = await acquireMachineLock(claimsOn(engine), "router", {
      clock,
      timeoutMs: 1000,
      ttlMs: 60_000,
      what: "The local router",
    });
    const waits: number[] = [];
    const busy = await acquireMachineLock(claimsOn(engine, { uid: 1001 }), "router", {
      clock,
      timeoutMs: 1000,
      ttlMs: 60_000,
      what: "The local router",
      onWait: (holder) => waits.push(holder.uid),
    }).catch((error: unknown) => error);
    expect(busy).toMatchObject({ code: "ENV_BUSY" });
    expect(String((busy as Error).message)).toMatch(/The local router is being changed.*uid 1000/);
    expect(waits).toEqual([1000]);
    await first.release();
    const second = await acquireMachineLock(claimsOn(engine), "router", {
      clock,
      timeoutMs: 0,
      ttlMs: 60_000,
      what: "The local router",
    });
    await second.release();
    expect(engine.volumes).toEqual([]);
  });

  it("takes over at once from a holder whose process is gone (kill -9)", async () => {
    const engine = new FakeEngine();
    foreignClaim(engine, "prodlike-claim-lock-dead", { kind: "lock", key: "router", pid: "99" });
    const held = await acquireMachineLock(claimsOn(engine, { dead: new Set([99]) }), "router", {
      clock: new FakeClock(),
      timeoutMs: 0,
      ttlMs: 60_000,
      what: "The local router",
    });
    await held.release();
  });

  it("keeps concurrent holders apart (engine calls interleaved)", async () => {
    const engine = new FakeEngine();
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        const lock = await acquireMachineLock(claimsOn(engine), "router", {
          clock: systemClock,
          timeoutMs: 30_000,
          ttlMs: 60_000,
          what: "The local router",
          random: Math.random,
        });
        inside++;
        most = Math.max(most, inside);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inside--;
        await lock.release();
      }),
    );
    expect(most).toBe(1);
  });
});

describe("ImageClaims", () => {
  it("keeps the images an up claimed from a removal", async () => {
    const engine = new FakeEngine();
    const up = new ImageClaims(claimsOn(engine));
    const destroy = new ImageClaims(claimsOn(engine));
    const intent = await up.intend("shop-qa-1", ["prodlike/php:1", "prodlike/nginx:1"], {
      sleep: async () => undefined,
      now: () => 0,
    });
    const removal = await destroy.removing("blog-local");
    expect(removal.inUse).toEqual(new Set(["prodlike/php:1", "prodlike/nginx:1"]));
    await destroy.release(removal.claim);
    await up.release(intent);
    const later = await destroy.removing("blog-local");
    expect(later.inUse).toEqual(new Set());
  });

  it("makes an up wait for a removal under way before it checks its images", async () => {
    const engine = new FakeEngine();
    const destroy = new ImageClaims(claimsOn(engine));
    const removal = await destroy.removing("blog-local");
    const up = new ImageClaims(claimsOn(engine));
    let slept = 0;
    await up.intend("shop-qa-1", ["prodlike/php:1"], {
      sleep: async () => {
        slept++;
        if (slept === 3) await destroy.release(removal.claim);
      },
      now: () => 0,
    });
    expect(slept).toBe(3);
  });
});
