import { randomBytes } from "node:crypto";
import { appendFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXEC_PROTOCOLS_V4 } from "../support/kube-wire/channels.js";
import { WireClusters } from "../support/kube-wire/wire-clusters.js";
import {
  copyExample,
  describeFailure,
  expectOk,
  httpGet,
  jsonField,
  SQL_CLIENT,
  type TestProject,
} from "./support/harness.js";

// The CLI's kind backend, unchanged, against the Kubernetes API server double on a v4-only
// server (Kubernetes before 1.29: exec cannot say that stdin ended): `kind` is a stand-in
// that makes each cluster a double whose pods are Docker containers, so client-node speaks
// the real protocols (server-side apply, logs, exec over websocket) and the containers are
// the preset's own. Counted in CI, never skipped: it needs only the Docker engine.

describe("prodlike on a Kubernetes wire double (exec protocol v4)", () => {
  let clusters: WireClusters;
  let project: TestProject;
  let webUrl = "";
  const greeting = `hello-${randomBytes(4).toString("hex")}`;
  const cli = (args: string[], options: { input?: string } = {}) =>
    project.cli(args, { ...options, env: { ...clusters.env(), PRODLIKE_ROUTER: "off" } });

  beforeAll(async () => {
    clusters = await WireClusters.start({ execProtocols: EXEC_PROTOCOLS_V4 });
    project = await copyExample("it-wire");
  });

  afterAll(async () => {
    if (project)
      await cli(["destroy", "--backend", "kind", "--keep-images"]).catch(() => undefined);
    await clusters?.close();
    await project?.cleanup();
  });

  it("up makes the cluster, applies, rolls out and serves the page", async () => {
    const up = await cli(["up", "--backend", "kind", "--json"]);
    expectOk(up);
    webUrl = jsonField<Record<string, string>>(up, "urls").web ?? "";
    expect((await httpGet(`${webUrl}/`)).status).toBeLessThan(500);
    const again = await cli(["up", "--json"]);
    expectOk(again);
    expect(again.json).toMatchObject({ changed: false });
  });

  it("exec streams stdin into MariaDB and the page shows what it wrote", async () => {
    const insert = await cli(["exec", "db", "--", ...SQL_CLIENT], {
      input: `REPLACE INTO greeting VALUES (1, '${greeting}');\n`,
    });
    expectOk(insert);
    const page = await httpGet(`${webUrl}/`);
    expect(page.body).toContain(`<span id="greeting">${greeting}</span>`);
  });

  it("exec passes exit codes through with stdin at EOF, piped, or not given", async () => {
    for (const [script, code] of [
      ["echo hi", 0],
      ["echo hi; exit 4", 4],
      ["echo hi; kill -9 $$", 137],
    ] as const) {
      const ran = await cli(["exec", "cli", "--", "sh", "-c", script]);
      expect({ code: ran.exitCode, out: ran.stdout }, describeFailure(ran)).toEqual({
        code,
        out: "hi",
      });
    }
    const piped = await cli(["exec", "cli", "--", "sh", "-c", "wc -l; exit 3"], {
      input: "a\nb\nc\n",
    });
    expect({ code: piped.exitCode, out: piped.stdout.trim() }).toEqual({ code: 3, out: "3" });
  });

  it("logs prints and exits 0", async () => {
    const logs = await cli(["logs", "--tail", "5", "db"]);
    expectOk(logs);
    expect(logs.stdout.trim().split("\n").length).toBeLessThanOrEqual(5);
  });
});

describe("a first up that fails on a Kubernetes wire double", () => {
  let clusters: WireClusters;
  let project: TestProject;
  const cli = (args: string[]) =>
    project.cli(args, { env: { ...clusters.env(), PRODLIKE_ROUTER: "off" } });

  beforeAll(async () => {
    clusters = await WireClusters.start({ execProtocols: EXEC_PROTOCOLS_V4 });
    project = await copyExample("it-wire-fail");
    // MariaDB's entrypoint refuses to start without a database name, and says so.
    await appendFile(
      path.join(project.dir, "prodlike.yaml"),
      'services:\n  db:\n    env:\n      MARIADB_DATABASE: ""\n',
    );
  });

  afterAll(async () => {
    if (project)
      await cli(["destroy", "--backend", "kind", "--keep-images"]).catch(() => undefined);
    await clusters?.close();
    await project?.cleanup();
  });

  it("keeps the cluster, and its error carries the container's last lines and the pod's events", async () => {
    const up = await cli(["up", "--backend", "kind", "--json", "--health-timeout", "120"]);
    expect(up.exitCode, describeFailure(up)).not.toBe(0);
    const error = jsonField<{ code: string; hint: string }>(up, "error");
    expect(error.code).toBe("ROLLOUT_FAILED");
    expect(error.hint).toContain("MARIADB_DATABASE is required");
    expect(error.hint).toMatch(/event BackOff: Back-off restarting failed container db/);
    // Kept for diagnosis: the hint's own commands work on it.
    expect([...clusters.clusters.keys()]).toEqual([`prodlike-${project.name}-local`]);
    const logs = await cli(["logs", "db"]);
    expectOk(logs);
    expect(logs.stdout).toContain("MARIADB_DATABASE is required");
  });

  it("--rm-on-failure removes a new cluster that failed", async () => {
    expectOk(await cli(["destroy", "--keep-images"]));
    const up = await cli([
      "up",
      "--backend",
      "kind",
      "--json",
      "--health-timeout",
      "120",
      "--rm-on-failure",
    ]);
    expect(up.exitCode, describeFailure(up)).not.toBe(0);
    expect([...clusters.clusters.keys()]).toEqual([]);
    expect((await cli(["status"])).exitCode).toBe(4);
  });
});
