import { describe, expect, it } from "vitest";
import {
  COMPOSE_V1,
  COMPOSE_V2,
  type ComposeCommand,
  composeArgs,
  detectCompose,
} from "../../../../src/backends/compose/compose-cli.js";
import { ProdlikeError } from "../../../../src/errors/prodlike-error.js";
import { FakeRunner } from "../../../support/fake-runner.js";

const project = { name: "shop-local", file: "/home/dev/shop/.prodlike/local/docker-compose.yml" };
const head = ["--project-name", "shop-local", "--file", project.file];

describe("composeArgs", () => {
  const cases: [ComposeCommand, string[]][] = [
    [{ kind: "up" }, ["up", "--detach", "--no-build", "--remove-orphans"]],
    [{ kind: "stop", timeoutSeconds: 10 }, ["stop", "--timeout", "10"]],
    [
      { kind: "down", removeVolumes: true, timeoutSeconds: 10 },
      ["down", "--remove-orphans", "--timeout", "10", "--volumes"],
    ],
    [
      { kind: "down", removeVolumes: false, timeoutSeconds: 5 },
      ["down", "--remove-orphans", "--timeout", "5"],
    ],
    [
      { kind: "logs", follow: true, tail: 50, color: true, services: ["web"] },
      ["logs", "--tail", "50", "--follow", "web"],
    ],
    [
      { kind: "logs", follow: false, tail: 10, color: false, services: [] },
      ["logs", "--tail", "10", "--no-color"],
    ],
    [{ kind: "config" }, ["config", "--quiet"]],
  ];

  it.each(cases)("v2: docker compose %j", (command, expected) => {
    expect(COMPOSE_V2.file).toBe("docker");
    expect(composeArgs(COMPOSE_V2, project, command)).toEqual(["compose", ...head, ...expected]);
  });

  it.each(cases)("v1: docker-compose %j", (command, expected) => {
    expect(COMPOSE_V1.file).toBe("docker-compose");
    expect(composeArgs(COMPOSE_V1, project, command)).toEqual([...head, ...expected]);
  });

  it("never uses v2-only flags", () => {
    const all = cases.flatMap(([command]) => composeArgs(COMPOSE_V1, project, command));
    for (const v2Only of ["--wait", "--wait-timeout", "--pull", "--quiet-pull", "--no-attach"]) {
      expect(all).not.toContain(v2Only);
    }
  });
});

describe("detectCompose", () => {
  it("prefers the v2 plugin", async () => {
    const runner = new FakeRunner().on("docker compose version --short", { stdout: "2.29.7" });
    const flavour = await detectCompose(runner, undefined);
    expect(flavour).toMatchObject({ version: "v2", versionText: "2.29.7" });
  });

  it("falls back to docker-compose v1", async () => {
    const runner = new FakeRunner()
      .on("docker compose version --short", {
        exitCode: 1,
        stderr: "docker: 'compose' is not a docker command.",
      })
      .on("docker-compose version --short", { stdout: "1.29.2" });
    const flavour = await detectCompose(runner, undefined);
    expect(flavour).toMatchObject({ version: "v1", file: "docker-compose", versionText: "1.29.2" });
    expect(runner.calls.map((call) => call.join(" "))).toEqual([
      "docker compose version --short",
      "docker-compose version --short",
    ]);
  });

  it("honours PRODLIKE_COMPOSE=v1", async () => {
    const runner = new FakeRunner().on("docker-compose version --short", { stdout: "1.29.2" });
    await detectCompose(runner, "v1");
    expect(runner.calls).toEqual([["docker-compose", "version", "--short"]]);
  });

  it("fails with an install hint when neither exists", async () => {
    const error = await detectCompose(new FakeRunner(), undefined).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ProdlikeError);
    expect((error as ProdlikeError).code).toBe("COMPOSE_MISSING");
    expect((error as ProdlikeError).exitCode).toBe(3);
  });
});
