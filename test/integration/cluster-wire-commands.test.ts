import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXEC_PROTOCOLS_V5 } from "../support/kube-wire/channels.js";
import { DockerRuntime } from "../support/kube-wire/docker-runtime.js";
import { KubeWireServer } from "../support/kube-wire/server.js";
import { type LocalRegistry, startLocalRegistry } from "../support/local-registry.js";
import {
  copyExample,
  describeFailure,
  expectOk,
  httpGet,
  jsonField,
  type TestProject,
  webUrlOf,
} from "./support/harness.js";

// The commands a developer uses every day, on `--backend cluster` (a namespace of an
// existing cluster, here the wire-level API double whose pods are Docker containers):
// the same commands as on compose and kind, through the Kubernetes API only (exec, logs,
// port-forward), never a node or a host path.

describe("the same commands on an existing cluster (wire double)", () => {
  let server: KubeWireServer;
  let registry: LocalRegistry;
  let project: TestProject;
  let kubeconfig = "";
  let webUrl = "";
  const cli = (args: string[], options: { input?: string } = {}) =>
    project.cli(args, {
      ...options,
      env: { KUBECONFIG: kubeconfig, PRODLIKE_ROUTER: "off" },
    });
  const sql = async (statement: string) => {
    const result = await cli(
      ["exec", "db", "--", "sh", "-c", 'exec mariadb -N "$MARIADB_DATABASE"'],
      { input: `${statement}\n` },
    );
    expectOk(result);
    return result.stdout.trim();
  };

  beforeAll(async () => {
    server = await KubeWireServer.start({
      runtime: new DockerRuntime(),
      execProtocols: EXEC_PROTOCOLS_V5,
      // Namespaces go through Terminating as a real cluster's do: destroy waits until the
      // pods are gone, so the code image it removes is no longer in use by them.
      namespaceFinalizeMs: 500,
    });
    registry = await startLocalRegistry();
    project = await copyExample("wt28s-cmds");
    await mkdir(project.home, { recursive: true, mode: 0o700 });
    kubeconfig = path.join(project.home, "kubeconfig");
    await server.writeKubeconfig(kubeconfig, "team-dev");
    await appendFile(
      path.join(project.dir, "prodlike.yaml"),
      [
        "cluster:",
        "  context: team-dev",
        `  registry: ${registry.host}/team`,
        "commands:",
        '  where: { service: cli, run: "pwd; hostname", description: "where the cli runs" }',
        "",
      ].join("\n"),
    );
    const up = await cli(["up", "--backend", "cluster", "--json"]);
    expectOk(up);
    webUrl = webUrlOf(up);
    await sql(
      "CREATE TABLE IF NOT EXISTS greeting (id INT PRIMARY KEY, message VARCHAR(255) NOT NULL); REPLACE INTO greeting VALUES (1, 'from-the-cluster')",
    );
  }, 600_000);

  afterAll(async () => {
    if (project) await cli(["destroy", "--keep-images"]).catch(() => undefined);
    await server?.close();
    await registry?.close();
    await project?.cleanup();
  });

  it("status says running on the cluster backend, with the forwarded URL", async () => {
    const status = await cli(["status", "--json"]);
    expectOk(status);
    expect(status.json).toMatchObject({ environment: { backend: "cluster", state: "running" } });
    expect(JSON.stringify(status.json)).toContain(webUrl);
  });

  it("exec passes stdin and the exit code through; logs prints the last lines", async () => {
    const piped = await cli(["exec", "cli", "--", "sh", "-c", "wc -l; exit 4"], {
      input: "a\nb\n",
    });
    expect({ code: piped.exitCode, out: piped.stdout.trim() }).toEqual({ code: 4, out: "2" });
    const logs = await cli(["logs", "--tail", "5", "db"]);
    expectOk(logs);
    expect(logs.stdout.trim().length).toBeGreaterThan(0);
    expect(logs.stdout.trim().split("\n").length).toBeLessThanOrEqual(5);
  });

  it("db export then import brings a row back", async () => {
    const dump = path.join(project.home, "round-trip.sql.gz");
    expectOk(await cli(["db", "export", dump]));
    expect((await readFile(dump)).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    await sql("UPDATE greeting SET message = 'changed-after-export' WHERE id = 1");
    const imported = await cli(["db", "import", dump]);
    expectOk(imported);
    expect(await sql("SELECT message FROM greeting WHERE id = 1")).toBe("from-the-cluster");
  });

  it("snapshot create and restore bring the exact data back", async () => {
    expectOk(await cli(["snapshot", "create", "wt28s-base", "--json"]));
    await sql("UPDATE greeting SET message = 'after-snapshot' WHERE id = 1");
    const restored = await cli(["snapshot", "restore", "wt28s-base", "--json"]);
    expectOk(restored);
    expect(await sql("SELECT message FROM greeting WHERE id = 1")).toBe("from-the-cluster");
    expect((await httpGet(`${webUrl}/`)).body).toContain("from-the-cluster");
  });

  it("run: a project command in the cli pod, and the preset's installer with its own exit code", async () => {
    const where = await cli(["run", "where"]);
    expectOk(where);
    expect(where.stdout.trim().split("\n")[0]).toBe("/var/www/html");
    // The example has no drush: the preset's installer says so and exits 3, passed through.
    const install = await cli(["run", "install"]);
    expect(install.exitCode, describeFailure(install)).toBe(3);
    expect(install.stderr).toContain("drush is not installed");
  });

  it("rollback after a second release goes back to the first, data kept", async () => {
    const config = path.join(project.dir, "prodlike.yaml");
    await writeFile(config, `${await readFile(config, "utf8")}env:\n  RELEASE_MARK: two\n`);
    const second = await cli(["up", "--json"]);
    expectOk(second);
    expect(second.json).toMatchObject({ changed: true });
    const mark = () =>
      cli(["exec", "php-fpm", "--", "sh", "-c", "printenv RELEASE_MARK || echo none"]);
    expect((await mark()).stdout.trim()).toBe("two");
    const back = await cli(["rollback", "--json"]);
    expectOk(back);
    expect((await mark()).stdout.trim()).toBe("none");
    expect(await sql("SELECT message FROM greeting WHERE id = 1")).toBe("from-the-cluster");
    expect((await httpGet(`${webUrl}/`)).body).toContain("from-the-cluster");
  });

  it("xdebug on says it is not available on a remote cluster, and why", async () => {
    const on = await cli(["xdebug", "on", "--json"]);
    expect(on.exitCode, describeFailure(on)).not.toBe(0);
    const error = jsonField<{ code: string; hint?: string }>(on, "error");
    expect(error.code).toBe("XDEBUG_UNAVAILABLE");
    expect(error.hint).toMatch(/cluster/);
  });
});
