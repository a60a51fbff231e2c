import { randomBytes } from "node:crypto";
import { appendFile, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXEC_PROTOCOLS_V4 } from "../support/kube-wire/channels.js";
import { WireClusters } from "../support/kube-wire/wire-clusters.js";
import {
  CLI,
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
    // From /dev/null there is nothing to send: no stdin channel, no decoder.
    const sessions = clusters.cluster(`prodlike-${project.name}-local`).server.sessions;
    expect(sessions.at(-1)?.command).not.toContain("prodlike-stdin");
    const piped = await cli(["exec", "cli", "--", "sh", "-c", "wc -l; exit 3"], {
      input: "a\nb\nc\n",
    });
    expect({ code: piped.exitCode, out: piped.stdout.trim() }).toEqual({ code: 3, out: "3" });
    // Piped on v4: through the decoder, the socket left open until the exit status.
    expect(sessions.at(-1)).toMatchObject({
      protocol: "v4.channel.k8s.io",
      stdinClosed: undefined,
    });
    expect(sessions.at(-1)?.command).toContain("prodlike-stdin");
  });

  it("exec returns the command's code while stdin stays open, on a pipe and on a terminal", async () => {
    const env = {
      ...clusters.env(),
      PRODLIKE_ROUTER: "off",
      PRODLIKE_HOME: project.home,
      NO_COLOR: "1",
    };
    // A pipe nobody closes (`sleep 600 | prodlike exec ...`): the command's end is enough.
    const piped = execa("node", [CLI, "exec", "cli", "--", "sh", "-c", "echo hi; exit 4"], {
      cwd: project.dir,
      env,
      stdin: "pipe",
      reject: false,
      timeout: 90_000,
    });
    const onPipe = await piped;
    expect({ code: onPipe.exitCode, out: onPipe.stdout, timedOut: onPipe.timedOut }).toEqual({
      code: 4,
      out: "hi",
      timedOut: false,
    });
    // A terminal (util-linux script gives prodlike a pseudo-terminal): no Ctrl-D needed.
    const command = `node ${CLI} exec cli -- sh -c 'echo on-a-terminal; exit 5'`;
    const onTerminal = await execa("script", ["-qfec", command, "/dev/null"], {
      cwd: project.dir,
      env,
      stdin: "pipe",
      reject: false,
      timeout: 90_000,
    });
    expect({ code: onTerminal.exitCode, timedOut: onTerminal.timedOut }).toEqual({
      code: 5,
      timedOut: false,
    });
    expect(onTerminal.stdout).toContain("on-a-terminal");
  });

  it("logs prints and exits 0", async () => {
    const logs = await cli(["logs", "--tail", "5", "db"]);
    expectOk(logs);
    expect(logs.stdout.trim().split("\n").length).toBeLessThanOrEqual(5);
  });

  const sql = async (statement: string) => {
    const result = await cli(
      ["exec", "db", "--", "sh", "-c", 'exec mariadb -N "$MARIADB_DATABASE"'],
      {
        input: `${statement}\n`,
      },
    );
    expectOk(result);
    return result.stdout.trim();
  };

  it("db export and import stream through exec stdin and leave no staging database", async () => {
    const dumpFile = path.join(project.dir, "wire-dump.sql.gz");
    expectOk(await cli(["db", "export", dumpFile]));
    await sql("UPDATE greeting SET message = 'changed-after-export'");
    const imported = await cli(["db", "import", dumpFile]);
    expectOk(imported);
    expect(await sql("SELECT message FROM greeting WHERE id = 1")).toBe(greeting);
    expect(await sql("SHOW DATABASES LIKE '%prodlike_stage%'")).toBe("");
  });

  it("snapshot create and restore bring the exact data back, the pointer on it", async () => {
    expectOk(await cli(["snapshot", "create", "wire-base", "--json"]));
    await sql("UPDATE greeting SET message = 'after-snapshot'");
    const restored = await cli(["snapshot", "restore", "wire-base", "--json"]);
    expectOk(restored);
    expect(await sql("SELECT message FROM greeting WHERE id = 1")).toBe(greeting);
    expect((await httpGet(`${webUrl}/`)).body).toContain(greeting);
  });

  it("xdebug and cache purge find the php-fpm container by its own role", async () => {
    const on = await cli(["xdebug", "on", "--json"]);
    expectOk(on);
    expect(JSON.stringify(on.json)).toContain("php-fpm");
    expectOk(await cli(["xdebug", "off"]));
    // The refresh after a data change reaches it too (it reloads php-fpm's caches).
    const purged = await cli(["cache", "purge", "--json"]);
    expectOk(purged);
    expect(JSON.stringify(purged.json)).toContain("php-fpm reloaded");
  });

  it("a changed up rolls out, records the release, and a second up changes nothing", async () => {
    const config = path.join(project.dir, "prodlike.yaml");
    await appendFile(config, "env:\n  RELEASE_MARK: two\n");
    const changed = await cli(["up", "--json"]);
    expectOk(changed);
    expect(changed.json).toMatchObject({ changed: true });
    const again = await cli(["up", "--json"]);
    expectOk(again);
    expect(again.json).toMatchObject({ changed: false });
    const mark = await cli([
      "exec",
      "php-fpm",
      "--",
      "sh",
      "-c",
      "printenv RELEASE_MARK || echo none",
    ]);
    expect(mark.stdout).toBe("two");
  });

  it("a release that cannot start is rolled back (exit 6), and rollback --data works after it", async () => {
    const config = path.join(project.dir, "prodlike.yaml");
    const original = await readFile(config, "utf8");
    try {
      await writeFile(config, `${original}services:\n  php-fpm:\n    image: debian:trixie-slim\n`);
      const failed = await cli(["up", "--json", "--health-timeout", "120"]);
      expect(failed.exitCode, describeFailure(failed)).toBe(6);
      expect(jsonField<{ code: string }>(failed, "error").code).toBe("ROLLED_BACK");
      expect((await httpGet(`${webUrl}/`)).body).toContain(greeting);
    } finally {
      await writeFile(config, original);
    }
    // The release kept before the last good up still has its data: back to it.
    const back = await cli(["rollback", "--data", "--json"]);
    expectOk(back);
    expect((await httpGet(`${webUrl}/`)).status).toBeLessThan(500);
  });

  it("down reports the environment stopped, never running, and up brings the data back", async () => {
    const down = await cli(["down", "--json"]);
    expectOk(down);
    const environment = jsonField<{ state: string; services: { state: string }[] }>(
      down,
      "environment",
    );
    expect(environment.state).toBe("stopped");
    expect(environment.services.filter((service) => service.state === "running")).toEqual([]);
    expectOk(await cli(["up"]));
    expect((await httpGet(`${webUrl}/`)).status).toBeLessThan(500);
  });

  it("destroy deletes the cluster, says so, and leaves no container of it", async () => {
    const destroyed = await cli(["destroy", "--keep-images", "--json"]);
    expectOk(destroyed);
    expect(jsonField<{ clusters: string[] }>(destroyed, "removed").clusters).toEqual([
      `prodlike-${project.name}-local`,
    ]);
    expect([...clusters.clusters.keys()]).toEqual([]);
    expect((await cli(["status"])).exitCode).toBe(4);
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
