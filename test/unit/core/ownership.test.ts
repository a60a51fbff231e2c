import { describe, expect, it } from "vitest";
import { claimOwnership, requireOwnership } from "../../../src/core/ownership.js";
import type { Target } from "../../../src/core/plan.js";
import type { ProdlikeError } from "../../../src/errors/prodlike-error.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeEngine } from "../../support/fake-engine.js";

// Who an environment belongs to, recorded with the (in-memory) engine every user shares.

function target(codeRoot: string, project: string, name: string): Target {
  return {
    identity: { project, name, id: `${project}-${name}` },
    loaded: { codeRoot } as Target["loaded"],
  };
}

function as(engine: FakeEngine, uid: number) {
  return { engine: async () => engine, developer: { uid, gid: uid }, clock: new FakeClock() };
}

const noLegacy = { ownerCodeRoot: async () => undefined };

async function refusal(promise: Promise<unknown>): Promise<ProdlikeError> {
  return (await promise.then(
    () => {
      throw new Error("not refused");
    },
    (error: unknown) => error,
  )) as ProdlikeError;
}

describe("ownership", () => {
  it("records the first up's owner; the same checkout passes again", async () => {
    const engine = new FakeEngine();
    const shop = target("/home/a/shop", "shop", "local");
    expect(await claimOwnership(as(engine, 1000), shop, noLegacy)).toEqual({ recorded: true });
    expect(await claimOwnership(as(engine, 1000), shop, noLegacy)).toEqual({ recorded: false });
    await requireOwnership(as(engine, 1000), shop, undefined);
  });

  it("refuses another checkout and another user with ENV_OWNED; --force only for the owner", async () => {
    const engine = new FakeEngine();
    await claimOwnership(as(engine, 1000), target("/home/a/shop", "shop", "local"), noLegacy);
    const moved = target("/home/a/moved/shop", "shop", "local");
    const checkout = await refusal(requireOwnership(as(engine, 1000), moved, undefined));
    expect(checkout.code).toBe("ENV_OWNED");
    expect(checkout.message).toContain("/home/a/shop");
    expect(checkout.hint).toContain("destroy --force");
    await requireOwnership(as(engine, 1000), moved, undefined, { force: true });
    const neighbour = await refusal(
      requireOwnership(as(engine, 1001), target("/home/b/shop", "shop", "local"), undefined, {
        force: true,
      }),
    );
    expect(neighbour.code).toBe("ENV_OWNED");
    expect(neighbour.message).toContain("another user (uid 1000)");
    // The owner's up --force takes it over for the moved checkout.
    await claimOwnership(as(engine, 1000), moved, noLegacy, { force: true });
    await requireOwnership(as(engine, 1000), moved, undefined);
  });

  it("refuses an id that reads the same from another project and name", async () => {
    const engine = new FakeEngine();
    await claimOwnership(as(engine, 1000), target("/src/ht", "ht", "two-ht-x"), noLegacy);
    const error = await refusal(
      claimOwnership(as(engine, 1000), target("/src/ht", "ht-two", "ht-x"), noLegacy),
    );
    expect(error.code).toBe("ENV_OWNED");
    expect(error.message).toContain("the same id");
  });

  it("judges an environment made before records by its containers' code root", async () => {
    const engine = new FakeEngine();
    const legacy = { ownerCodeRoot: async () => "/home/a/shop" };
    const other = target("/home/a/other", "shop", "local");
    expect((await refusal(requireOwnership(as(engine, 1000), other, legacy))).code).toBe(
      "ENV_OWNED",
    );
    expect((await refusal(claimOwnership(as(engine, 1000), other, legacy))).code).toBe("ENV_OWNED");
    // Its own checkout records it on its next up.
    await claimOwnership(as(engine, 1000), target("/home/a/shop", "shop", "local"), legacy);
    expect(engine.volumes.map((volume) => volume.name)).toEqual(["prodlike-env-shop-local"]);
  });
});
