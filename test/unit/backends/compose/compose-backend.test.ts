import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ComposeBackend } from "../../../../src/backends/compose/compose-backend.js";
import { recordReleaseImages } from "../../../../src/backends/compose/compose-release.js";
import { healthCommandOf } from "../../../../src/backends/compose/container-waits.js";
import type { ContainerInfo } from "../../../../src/backends/docker/docker-engine.js";
import { ProdlikeError } from "../../../../src/errors/prodlike-error.js";
import { Label } from "../../../../src/topology/labels.js";
import { SilentProgress } from "../../../../src/ui/plain-progress.js";
import { drupalTopology } from "../../../support/drupal-topology.js";
import { FakeClock } from "../../../support/fake-clock.js";
import { FakeEngine } from "../../../support/fake-engine.js";
import { FakeRunner } from "../../../support/fake-runner.js";

const COMPOSE_VERSION = "docker-compose version --short";

function envContainer(
  envId: string,
  service: string,
  imageId: string,
  codeRoot: string,
): ContainerInfo {
  return {
    id: `${envId}-${service}`,
    name: `${envId}_${service}_1`,
    state: "running",
    health: "healthy",
    image: imageId,
    imageId,
    ports: [],
    createdAt: 0,
    networks: [],
    labels: {
      "com.docker.compose.project": envId,
      [Label.managed]: "true",
      [Label.env]: envId,
      [Label.name]: "local",
      [Label.codeRoot]: codeRoot,
      [Label.service]: service,
    },
  };
}

async function setup() {
  const codeRoot = await mkdtemp(path.join(os.tmpdir(), "prodlike-backend-"));
  const topology = { ...(await drupalTopology()), codeRoot };
  const engine = new FakeEngine();
  const runner = new FakeRunner().on(COMPOSE_VERSION, { stdout: "1.29.2" });
  const backend = new ComposeBackend({
    runner,
    engine,
    clock: new FakeClock(),
    composeOverride: "v1",
  });
  return { codeRoot, topology, engine, runner, backend };
}

describe("ComposeBackend.up", () => {
  it("leaves a brand-new environment whose start failed for diagnosis, and reports the compose error", async () => {
    const { topology, runner, backend } = await setup();
    const composeFile = path.join(topology.codeRoot, ".prodlike", "local", "docker-compose.yml");
    const head = `docker-compose --project-name shop-local --file ${composeFile}`;
    runner.on(`${head} up --detach --no-build --remove-orphans`, {
      exitCode: 1,
      stderr: "ERROR: boom s3cret-password-123",
    });
    runner.on(`${head} down --remove-orphans --timeout 10 --volumes`, {});

    const error = await backend
      .up(topology, new SilentProgress(), { rebuild: false, healthTimeoutMs: 1000 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProdlikeError);
    expect((error as ProdlikeError).code).toBe("COMPOSE_FAILED");
    // The compose output is in the hint, with the password redacted.
    expect((error as ProdlikeError).hint).toContain("ERROR: boom");
    expect((error as ProdlikeError).hint).not.toContain("s3cret-password-123");
    // What it made stays for `prodlike logs` (core removes it on --rm-on-failure).
    expect(runner.calls.map((call) => call.join(" "))).not.toContain(
      `${head} down --remove-orphans --timeout 10 --volumes`,
    );
  });

  it("leaves an existing environment as it was when a change fails (its data stays)", async () => {
    const { topology, engine, runner, backend, codeRoot } = await setup();
    engine.containers = topology.services.map((service) =>
      envContainer("shop-local", service.name, "sha256:old", codeRoot),
    );
    const composeFile = path.join(codeRoot, ".prodlike", "local", "docker-compose.yml");
    runner.on(
      `docker-compose --project-name shop-local --file ${composeFile} up --detach --no-build --remove-orphans`,
      {
        exitCode: 1,
        stderr: "ERROR: boom",
      },
    );
    await expect(
      backend.up(topology, new SilentProgress(), { rebuild: false, healthTimeoutMs: 1000 }),
    ).rejects.toBeInstanceOf(ProdlikeError);
    expect(runner.calls.some((call) => call.includes("down"))).toBe(false);
    expect(engine.removed).toEqual([]);
  });

  it("builds only the images that are missing", async () => {
    const { topology, engine, runner, backend } = await setup();
    const tags = topology.services.map((service) =>
      service.image.kind === "build" ? service.image.tag : "",
    );
    engine.images = tags.slice(1).map((tag) => ({ id: `sha256:${tag}`, tags: [tag], labels: {} }));
    const composeFile = path.join(topology.codeRoot, ".prodlike", "local", "docker-compose.yml");
    runner.on(
      `docker-compose --project-name shop-local --file ${composeFile} up --detach --no-build --remove-orphans`,
      {
        exitCode: 1,
      },
    );
    runner.on(
      `docker-compose --project-name shop-local --file ${composeFile} down --remove-orphans --timeout 10 --volumes`,
      {},
    );
    await backend
      .up(topology, new SilentProgress(), { rebuild: false, healthTimeoutMs: 1000 })
      .catch(() => undefined);
    const built = engine.images.filter((image) => image.labels[Label.managed] === "true");
    expect(built.map((image) => image.tags[0])).toEqual([tags[0]]);
  });
});

describe("ComposeBackend.destroy", () => {
  it("removes the environment's resources and only the images no other environment uses", async () => {
    const { engine, runner, backend, codeRoot } = await setup();
    const managed = { [Label.managed]: "true" };
    engine.images = [
      { id: "sha256:shared", tags: ["prodlike/drupal-nginx:1"], labels: managed },
      { id: "sha256:only-a", tags: ["prodlike/drupal-cli:1"], labels: managed },
      { id: "sha256:base", tags: ["debian:bookworm-slim"], labels: {} },
    ];
    engine.containers = [
      envContainer("shop-local", "web", "sha256:shared", codeRoot),
      envContainer("shop-local", "cli", "sha256:only-a", codeRoot),
      envContainer("shop-qa", "web", "sha256:shared", codeRoot),
    ];
    engine.volumes = [{ name: "shop-local_db-data", labels: { [Label.env]: "shop-local" } }];
    engine.networks = [
      { id: "n1", name: "shop-local_default", labels: { [Label.env]: "shop-local" } },
    ];

    const report = await backend.destroy("shop-local", new SilentProgress(), { keepImages: false });
    expect(report.images).toEqual(["prodlike/drupal-cli:1"]);
    expect(report.volumes).toEqual(["shop-local_db-data"]);
    expect(engine.containers.map((container) => container.id)).toEqual(["shop-qa-web"]);
    expect(engine.images.map((image) => image.id)).toEqual(["sha256:shared", "sha256:base"]);
    expect(engine.volumes).toEqual([]);
    expect(engine.networks).toEqual([]);
    // No compose file on disk here: the clean-up went by label alone.
    expect(runner.calls.some((call) => call.includes("down"))).toBe(false);
  });

  it("removes an image carrying several tags by each tag (the engine refuses its id)", async () => {
    const { engine, backend, codeRoot } = await setup();
    const managed = { [Label.managed]: "true" };
    engine.images = [
      { id: "sha256:db", tags: ["prodlike/mariadb:1", "prodlike/old-mariadb:1"], labels: managed },
    ];
    engine.containers = [envContainer("shop-local", "db", "sha256:db", codeRoot)];
    const report = await backend.destroy("shop-local", new SilentProgress(), { keepImages: false });
    expect(report.images).toEqual(["prodlike/mariadb:1", "prodlike/old-mariadb:1"]);
    expect(engine.images).toEqual([]);
  });

  it("reports only the images it removed itself, not one a parallel destroy took first", async () => {
    const { engine, backend, codeRoot } = await setup();
    const managed = { [Label.managed]: "true" };
    engine.images = [
      { id: "sha256:nginx", tags: ["prodlike/nginx:1"], labels: managed },
      { id: "sha256:cli", tags: ["prodlike/drupal-cli:1"], labels: managed },
    ];
    engine.containers = [
      envContainer("shop-local", "web", "sha256:nginx", codeRoot),
      envContainer("shop-local", "cli", "sha256:cli", codeRoot),
    ];
    // The other destroy removes nginx between this one's listing and its removal.
    const remove = engine.removeImage.bind(engine);
    engine.removeImage = async (reference: string) => {
      if (reference === "prodlike/nginx:1") {
        engine.images = engine.images.filter((image) => image.id !== "sha256:nginx");
      }
      return remove(reference);
    };
    const report = await backend.destroy("shop-local", new SilentProgress(), { keepImages: false });
    expect(report.images).toEqual(["prodlike/drupal-cli:1"]);
    expect(engine.images).toEqual([]);
  });

  it("removes the images of the environment's other releases, which no container runs", async () => {
    const { engine, backend, codeRoot } = await setup();
    const managed = { [Label.managed]: "true" };
    engine.images = [
      { id: "sha256:now", tags: ["prodlike/drupal-php-fpm:2"], labels: managed },
      { id: "sha256:kept", tags: ["prodlike/drupal-php-fpm:1"], labels: managed },
      { id: "sha256:other-env", tags: ["prodlike/drupal-php-fpm:0"], labels: managed },
    ];
    engine.containers = [
      envContainer("shop-local", "php-fpm", "sha256:now", codeRoot),
      envContainer("shop-qa", "php-fpm", "sha256:other-env", codeRoot),
    ];
    await recordReleaseImages(path.join(codeRoot, ".prodlike", "local"), [
      "prodlike/drupal-php-fpm:1",
      "prodlike/drupal-php-fpm:2",
      // Also built by this environment once, but another one runs it now: it stays.
      "prodlike/drupal-php-fpm:0",
    ]);
    const report = await backend.destroy("shop-local", new SilentProgress(), { keepImages: false });
    expect(report.images.sort()).toEqual([
      "prodlike/drupal-php-fpm:1",
      "prodlike/drupal-php-fpm:2",
    ]);
    expect(engine.images.map((image) => image.id)).toEqual(["sha256:other-env"]);
  });

  it("keeps images with keepImages", async () => {
    const { engine, backend, codeRoot } = await setup();
    engine.images = [
      { id: "sha256:only-a", tags: ["prodlike/drupal-cli:1"], labels: { [Label.managed]: "true" } },
    ];
    engine.containers = [envContainer("shop-local", "cli", "sha256:only-a", codeRoot)];
    const report = await backend.destroy("shop-local", new SilentProgress(), { keepImages: true });
    expect(report.images).toEqual([]);
    expect(engine.images).toHaveLength(1);
  });

  it("says clearly when the environment does not exist", async () => {
    const { backend } = await setup();
    const error = await backend
      .destroy("nope-local", new SilentProgress(), { keepImages: false })
      .catch((e: unknown) => e);
    expect((error as ProdlikeError).code).toBe("ENV_NOT_FOUND");
    expect((error as ProdlikeError).exitCode).toBe(4);
  });
});

describe("ComposeBackend.restartService", () => {
  it("runs the service's own health command until it passes, not waiting for Docker's next check", async () => {
    const { engine, backend, codeRoot } = await setup();
    const db = {
      ...envContainer("shop-local", "db", "img", codeRoot),
      health: "starting" as const,
    };
    engine.containers = [db];
    engine.configs.set(db.id, {
      ...emptyConfig,
      healthTest: ["CMD", "prodlike-mariadb-healthcheck"],
    });
    engine.execExitCodes = [1, 1];

    await backend.restartService("shop-local", "db", 5000);
    expect(engine.restarted).toEqual([db.id]);
    const checks = engine.execs.filter((call) =>
      call.command.includes("prodlike-mariadb-healthcheck"),
    );
    expect(checks).toHaveLength(3);
    // A clean stop by default; at once when the data it holds is being replaced.
    engine.execExitCodes = [];
    await backend.restartService("shop-local", "db", 5000, { immediate: true });
    expect(engine.restartTimeouts).toEqual([10, 0]);
  });

  it("reports a health command that never passes as a health timeout", async () => {
    const { engine, backend, codeRoot } = await setup();
    const db = envContainer("shop-local", "db", "img", codeRoot);
    engine.containers = [db];
    engine.configs.set(db.id, { ...emptyConfig, healthTest: ["CMD-SHELL", "mariadb-admin ping"] });
    engine.execExitCode = 1;
    const error = await backend
      .restartService("shop-local", "db", 1000)
      .catch((caught: unknown) => caught);
    expect((error as ProdlikeError).code).toBe("HEALTH_TIMEOUT");
    expect(engine.execs[0]?.command).toEqual(["sh", "-c", "mariadb-admin ping"]);
  });
});

const emptyConfig = {
  image: "img",
  env: [],
  entrypoint: [],
  cmd: [],
  mounts: [],
  imageDefaults: { env: [], entrypoint: [], cmd: [] },
};

describe("healthCommandOf", () => {
  it("turns docker inspect's health check into an exec argv", () => {
    expect(healthCommandOf(["CMD", "check", "--fast"])).toEqual(["check", "--fast"]);
    expect(healthCommandOf(["CMD-SHELL", "curl -f localhost || exit 1"])).toEqual([
      "sh",
      "-c",
      "curl -f localhost || exit 1",
    ]);
  });

  it("has none for a switched-off, missing or unreadable health check", () => {
    expect(healthCommandOf(["NONE"])).toBeUndefined();
    expect(healthCommandOf(undefined)).toBeUndefined();
    expect(healthCommandOf([])).toBeUndefined();
  });
});

describe("ComposeBackend.portClaims", () => {
  it("counts a stopped container's configured ports: its own kept, another's taken", async () => {
    const { engine, backend } = await setup();
    const web = (envId: string, state: string, hostPort: number): ContainerInfo => ({
      ...envContainer(envId, "web", "img", "/src"),
      state,
      // Docker lists no ports for a container that is not running.
      ports: state === "running" ? [{ containerPort: 80, hostPort, hostIp: "127.0.0.1" }] : [],
      labels: {
        ...envContainer(envId, "web", "img", "/src").labels,
        [Label.ports]: "web:80:http",
      },
    });
    engine.containers.push(
      web("shop-local", "exited", 8081),
      web("blog-local", "exited", 8082),
      web("wiki-local", "running", 8083),
    );
    engine.bindings.set("shop-local-web", [
      { containerPort: 80, hostPort: 8081, hostIp: "127.0.0.1" },
    ]);
    engine.bindings.set("blog-local-web", [
      { containerPort: 80, hostPort: 8082, hostIp: "127.0.0.1" },
    ]);
    const claims = await backend.portClaims("shop-local");
    expect(claims.own).toEqual({ web: 8081 });
    expect([...claims.others].sort()).toEqual([8082, 8083]);
  });
});
