import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Backend } from "../../../src/backends/backend.js";
import { MachineClaims } from "../../../src/backends/docker/machine-claims.js";
import { PortReservations } from "../../../src/backends/docker/port-reservations.js";
import type { UserSettings } from "../../../src/config/user-settings.js";
import { chooseHostPorts, planEnvironment, resolveTarget } from "../../../src/core/plan.js";
import type { ProdlikeError } from "../../../src/errors/prodlike-error.js";
import { systemClock } from "../../../src/waits/clock.js";
import { FakeEngine } from "../../support/fake-engine.js";

// Planning an `up`: which environment (project folder + --name), which ports, and the
// model the preset importer makes from them; a checkout never takes over another's.

async function project(): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-plan-"));
  await writeFile(path.join(dir, "prodlike.yaml"), "name: shop\npreset: drupal\n");
  const home = await mkdtemp(path.join(os.tmpdir(), "prodlike-plan-home-"));
  return { dir, env: { PRODLIKE_HOME: home } };
}

function backend(claims: { own?: Record<string, number>; others?: number[]; owner?: string }) {
  return {
    name: "compose",
    portClaims: async () => ({ own: claims.own ?? {}, others: new Set(claims.others ?? []) }),
    ownerCodeRoot: async () => claims.owner,
  } as unknown as Backend;
}

// One engine's claims, as every `up` on the machine shares them.
function reservations(engine: FakeEngine, envId: string): PortReservations {
  return new PortReservations(new MachineClaims({ engine, clock: systemClock, uid: 1000 }), envId);
}

const settings = (stateDir: string): UserSettings => ({
  deriveSecret: (envId, purpose) => `secret-${envId}-${purpose}`,
  stateDir,
});

describe("plan", () => {
  it("names the environment from prodlike.yaml and --name", async () => {
    const { dir, env } = await project();
    const target = await resolveTarget({ env }, { dir, name: "qa-1" });
    expect(target.identity).toEqual({ project: "shop", name: "qa-1", id: "shop-qa-1" });
    expect(target.loaded.codeRoot).toBe(dir);
  });

  it("plans the preset with the ports an environment already has, secrets derived for it", async () => {
    const { dir, env } = await project();
    const services = { env, developer: { uid: 1234, gid: 1234 } };
    const target = await resolveTarget(services, { dir });
    const { topology } = await planEnvironment(
      services,
      target,
      backend({ own: { web: 18080 } }),
      settings(path.join(env.PRODLIKE_HOME ?? "", "state")),
      reservations(new FakeEngine(), "shop-local"),
    );
    const web = topology.services.find((service) => service.name === "web");
    expect(web?.ports[0]).toMatchObject({ name: "web", hostPort: 18080 });
    expect(topology.secrets).toContain("secret-shop-local-db");
    expect(topology.services.find((service) => service.name === "cli")?.user).toEqual({
      uid: 1234,
      gid: 1234,
    });
  });

  it("never gives two environments planned at once the same free port", async () => {
    const engine = new FakeEngine();
    const request = [{ service: "web", name: "web", preferred: 28080 }];
    const [a, b] = await Promise.all([
      chooseHostPorts(request, "shop-a", backend({}), reservations(engine, "shop-a")),
      chooseHostPorts(request, "shop-b", backend({}), reservations(engine, "shop-b")),
    ]);
    expect(a.web).toBeDefined();
    expect(b.web).toBeDefined();
    expect(a.web).not.toBe(b.web);
    // A port another environment's container holds is skipped too.
    const c = await chooseHostPorts(
      request,
      "shop-c",
      backend({ others: [28080, 28081, 28082] }),
      reservations(new FakeEngine(), "shop-c"),
    );
    expect([28080, 28081, 28082]).not.toContain(c.web);
  });

  it("gives up with PORT_UNAVAILABLE, never a port another reservation holds", async () => {
    const request = [{ service: "web", name: "web", preferred: 28180 }];
    // Another `up` that reserves whatever this one chooses, every time.
    const contested = {
      heldByOthers: async () => new Set<number>(),
      reserve: async (ports: readonly number[]) => [...ports],
    };
    const error = (await chooseHostPorts(request, "shop-d", backend({}), contested, () => 0).catch(
      (caught: unknown) => caught,
    )) as ProdlikeError;
    expect(error.code).toBe("PORT_UNAVAILABLE");
    expect(error.message).toContain("28180");
  });
});
