import { describe, expect, it } from "vitest";
import { runDoctor } from "../../../src/core/doctor.js";
import { FakeRunner } from "../../support/fake-runner.js";

const probes = (runner: FakeRunner, overrides: Partial<Parameters<typeof runDoctor>[0]> = {}) => ({
  runner,
  nodeVersion: "v24.1.0",
  isPortFree: async (port: number) => port !== 8080,
  readProcFile: async (file: string) => (file.endsWith("max_user_watches") ? "8192\n" : "1024\n"),
  ports: [
    { name: "web", port: 8080 },
    { name: "db", port: 13306 },
  ],
  ...overrides,
});

const engineAndV1 = () =>
  new FakeRunner()
    .on("docker version --format {{.Server.Version}}", { stdout: "27.3.1" })
    .on("docker compose version --short", { exitCode: 1, stderr: "unknown command: compose" })
    .on("docker-compose version --short", { stdout: "1.29.2" });

describe("runDoctor", () => {
  it("finds compose usable with only docker-compose v1, and kind not", async () => {
    const runner = engineAndV1();
    const compose = await runDoctor(probes(runner), "compose");
    expect(compose.usable).toBe(true);
    const byName = Object.fromEntries(compose.checks.map((check) => [check.name, check]));
    expect(byName.compose).toMatchObject({ ok: true, detail: "v1 1.29.2" });
    expect(byName["docker engine"]).toMatchObject({ ok: true, detail: "27.3.1" });
    expect(byName.kind).toMatchObject({ ok: false, detail: "not installed" });
    expect(byName.kind?.hint).toContain("kind.sigs.k8s.io");
    expect(byName["port 8080 (web)"]).toMatchObject({ ok: false, detail: "taken on 127.0.0.1" });
    expect(byName["inotify max_user_watches"]).toMatchObject({
      ok: false,
      detail: "8192 (below 524288)",
    });
    expect(byName["inotify max_user_instances"]).toMatchObject({ ok: true, detail: "1024" });

    expect((await runDoctor(probes(engineAndV1()), "kind")).usable).toBe(false);
  });

  it("finds kind usable with an engine and kind, and reads kubectl's JSON version", async () => {
    const runner = engineAndV1()
      .on("kind version", { stdout: "kind v0.27.0 go1.23.6 linux/amd64" })
      .on("kubectl version --client --output=json", {
        stdout: JSON.stringify({ clientVersion: { gitVersion: "v1.32.2" } }),
      });
    const report = await runDoctor(probes(runner), "kind");
    expect(report.usable).toBe(true);
    const byName = Object.fromEntries(report.checks.map((check) => [check.name, check]));
    expect(byName.kind?.detail).toBe("v0.27.0");
    expect(byName.kubectl?.detail).toBe("v1.32.2");
  });

  it("fails every backend without an engine or on an old Node", async () => {
    const noEngine = new FakeRunner().on("docker-compose version --short", { stdout: "1.29.2" });
    expect((await runDoctor(probes(noEngine), "compose")).usable).toBe(false);
    const oldNode = await runDoctor(probes(engineAndV1(), { nodeVersion: "v20.11.0" }), "compose");
    expect(oldNode.usable).toBe(false);
    expect(oldNode.checks[0]).toMatchObject({ name: "node", ok: false });
  });
});
