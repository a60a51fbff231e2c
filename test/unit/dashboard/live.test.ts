import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { actionWork, createWork } from "../../../src/dashboard/actions.js";
import { type LiveChange, LiveEnvironments } from "../../../src/dashboard/live-environments.js";
import { createColour } from "../../../src/ui/colour.js";
import { SilentProgress } from "../../../src/ui/plain-progress.js";
import { servicesOver } from "../../support/dashboard-services.js";
import { FakeEngine } from "../../support/fake-engine.js";
import { fakeContainers } from "../../support/many-environments.js";

async function live() {
  const engine = new FakeEngine();
  engine.containers = fakeContainers(2);
  const services = servicesOver(engine, await mkdtemp(path.join(os.tmpdir(), "prodlike-live-")));
  const changes: LiveChange[] = [];
  const environments = new LiveEnvironments(services, (change) => changes.push(change));
  await environments.start();
  return { engine, services, changes, environments };
}

describe("LiveEnvironments", () => {
  it("reads the listing again after engine events, and says what changed or went", async () => {
    const { engine, changes, environments } = await live();
    expect(environments.all().map((environment) => environment.id)).toEqual([
      "fake-qa-000",
      "fake-qa-001",
    ]);
    changes.length = 0;
    // A health check's exec says nothing a listing shows.
    engine.emit({ action: "exec_start: sh -c true", id: "x", labels: {} });
    await environments.settled();
    expect(changes).toEqual([]);

    for (const container of engine.containers) {
      if (container.labels["dev.prodlike.env"] === "fake-qa-000") container.state = "exited";
    }
    engine.containers = engine.containers.filter(
      (container) => container.labels["dev.prodlike.env"] !== "fake-qa-001",
    );
    engine.emit({ action: "die", id: "a", labels: { "dev.prodlike.env": "fake-qa-000" } });
    engine.emit({ action: "destroy", id: "b", labels: { "dev.prodlike.env": "fake-qa-001" } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await environments.settled();
    expect(
      changes.map((change) =>
        change.type === "removed" ? `-${change.id}` : change.environment.state,
      ),
    ).toEqual(["stopped", "-fake-qa-001"]);
    environments.close();
  });
});

describe("the dashboard's actions", () => {
  it("refuses a form it cannot run before anything starts", async () => {
    const { services } = await live();
    expect(() => createWork(services, { dir: "shop" })).toThrow(/absolute path/);
    expect(() => createWork(services, { dir: "/srv/shop", name: "QA 1" })).toThrow(
      /Invalid environment name/,
    );
    expect(() => createWork(services, { dir: "/srv/shop", ttl: "soon" })).toThrow(/ttl/);
    expect(() => createWork(services, { dir: "/srv/shop", mirror: "yes" })).toThrow(
      /true or false/,
    );
    expect(createWork(services, { dir: "/srv/shop", name: "qa-7", ttl: "4h" }).envName).toBe(
      "qa-7",
    );
  });

  it("acts only on the environment the page showed, not one the checkout names now", async () => {
    const { services } = await live();
    const checkout = await mkdtemp(path.join(os.tmpdir(), "prodlike-checkout-"));
    await writeFile(path.join(checkout, "prodlike.yaml"), "name: renamed\npreset: drupal\n");
    const work = actionWork(
      services,
      "down",
      { id: "fake-qa-000", codeRoot: checkout, name: "qa-000", backend: "compose" },
      {},
    );
    await expect(work(new SilentProgress())).rejects.toMatchObject({
      code: "ENV_NOT_FOUND",
      message: expect.stringContaining("now names renamed-qa-000"),
    });
  });
});

describe("colour", () => {
  it("writes plain text without a terminal, whatever the chain of styles", () => {
    const colour = createColour({ isTTY: false } as NodeJS.WriteStream, {});
    expect(colour.red("a")).toBe("a");
    expect(colour.bold.yellow.dim("b", "c")).toBe("b c");
    expect(colour.level).toBe(0);
    const forced = createColour({ isTTY: false } as NodeJS.WriteStream, { FORCE_COLOR: "1" });
    expect(forced.red("a")).toBe("\u001b[31ma\u001b[39m");
  });
});
