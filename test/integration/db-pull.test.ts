import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  productionSeedSql,
  pullConfigYaml,
  startProductionServer,
} from "../support/production-server.js";
import {
  copyExample,
  describeFailure,
  discardProject,
  environmentNetwork,
  expectOk,
  jsonField,
  shellIn,
  type TestProject,
} from "./support/harness.js";

// db pull end to end: a "production" container (sshd + MariaDB, its own docker network,
// a host key trusted through a known_hosts file, never by switching checks off) is
// pulled over real ssh with the mysqldump strategy into a real local environment.
// drush is not in this machine's Packagist copy, so the drush strategies are covered by
// unit tests of their command lines; this is the transport they share in production.

type Production = Awaited<ReturnType<typeof startProductionServer>>;
let production: Production;
let project: TestProject;

// Rows and a content checksum, computed the same way on both sides.
// HEX: the stored bytes, whatever the client's character set.
const FINGERPRINT = `SELECT COUNT(*), SUM(CRC32(HEX(CONCAT_WS('|', nid, title, body, created)))) FROM node_field_data`;

async function localSql(sql: string): Promise<string> {
  const result = await shellIn(
    project,
    "db",
    'exec mariadb --default-character-set=utf8mb4 -N -B "$MARIADB_DATABASE"',
    { input: sql },
  );
  expectOk(result);
  return result.stdout.trim();
}

beforeAll(async () => {
  production = await startProductionServer("pull");
  await production.sql(productionSeedSql());
  project = await copyExample("it-pull");
  await appendFile(path.join(project.dir, "prodlike.yaml"), pullConfigYaml(production));
  expectOk(await project.cli(["up", "--json"]));
}, 900_000);

afterAll(async () => {
  await discardProject(project);
  await production?.stop();
});

describe("prodlike db pull (mysqldump over ssh)", { timeout: 300_000 }, () => {
  it("copies production, rows without cache/session/log tables, sanitized, local-only tables gone", async () => {
    await localSql("CREATE TABLE local_only (x INT); INSERT INTO local_only VALUES (1);");
    const result = await project.cli(["db", "pull", "--from", "prod", "--json"]);
    expectOk(result);
    expect(result.json).toMatchObject({ ok: true, strategy: "mysqldump", sanitized: true });
    expect(jsonField<number>(result, "bytes")).toBeGreaterThan(5_000_000);
    expect(jsonField<number>(result, "megabytesPerSecond")).toBeGreaterThan(0);
    // The password of the production database never appears in what prodlike prints.
    expect(result.stdout + result.stderr).not.toContain("prod-secret-pw");

    expect(await localSql(FINGERPRINT)).toBe(await production.sql(FINGERPRINT));
    // Multi-byte text arrives as the same bytes (☕ is E2 98 95 in utf8mb4).
    expect(await localSql("SELECT HEX(title) FROM node_field_data WHERE nid = 1")).toContain(
      "E29895",
    );
    expect(await localSql("SELECT COUNT(*) FROM users_field_data")).toBe("501");
    const tables = (await localSql("SHOW TABLES")).split("\n").sort();
    expect(tables).toEqual([
      "cache_entity",
      "cache_render",
      "node_audit",
      "node_field_data",
      "recent_nodes",
      "sessions",
      "users_field_data",
      "watchdog",
    ]);
    // The trigger arrives, but only after the rows: loading them fired it for none.
    expect(await localSql("SELECT COUNT(*) FROM node_audit")).toBe(
      await production.sql("SELECT COUNT(*) FROM node_audit"),
    );
    expect(await localSql("SHOW TRIGGERS")).toContain("node_audit_insert");
    expect(await localSql("SELECT COUNT(*) FROM recent_nodes")).toBe(
      await production.sql("SELECT COUNT(*) FROM recent_nodes"),
    );
    // Structure only: the tables exist, without production's rows.
    expect(
      await localSql(
        "SELECT (SELECT COUNT(*) FROM cache_render) + (SELECT COUNT(*) FROM cache_entity) + (SELECT COUNT(*) FROM sessions) + (SELECT COUNT(*) FROM watchdog)",
      ),
    ).toBe("0");
    // Sanitized before it went live: no customer address, no password hash.
    expect(
      await localSql(
        "SELECT COUNT(*) FROM users_field_data WHERE mail LIKE '%customer.example' OR pass LIKE '$S$%'",
      ),
    ).toBe("0");
    expect(await localSql("SELECT mail FROM users_field_data WHERE uid = 7")).toBe(
      "user+7@localhost.localdomain",
    );
    const status = await project.cli(["status", "--json"]);
    expect(jsonField<{ data?: unknown }>(status, "environment").data).toMatchObject({
      kind: "pull",
      sanitized: true,
    });
  });

  it("--no-sanitize keeps production data, and status says so", async () => {
    const result = await project.cli(["db", "pull", "prod", "--no-sanitize"]);
    expectOk(result);
    expect(result.stdout).toContain("NOT sanitized");
    expect(await localSql("SELECT mail FROM users_field_data WHERE uid = 7")).toBe(
      "editor7@customer.example",
    );
    const status = await project.cli(["status"]);
    expect(status.stdout).toMatch(/data\s+pulled from prod .*NOT sanitized/);
  });

  it("refuses any target but this environment, before anything runs", async () => {
    await mkdir(path.join(project.dir, "drush", "sites"), { recursive: true });
    await writeFile(
      path.join(project.dir, "drush", "sites", "self.site.yml"),
      `prod:\n  host: ${production.ip}\n  user: deploy\n  root: /var/www/html\ndev:\n  root: /var/www/html\n`,
    );
    const before = await localSql(FINGERPRINT);
    const attempts = [
      ["db", "pull", "--from", "@self"],
      ["db", "pull", "@self", "prod"],
      ["db", "pull", "prod", "@prod"],
      ["db", "pull", "@dev"],
    ];
    for (const args of attempts) {
      const result = await project.cli([...args, "--json"]);
      expect(result.exitCode, describeFailure(result)).toBe(2);
      expect(result.json).toMatchObject({ ok: false, error: { code: "UNSAFE_TARGET" } });
    }
    const remote = await project.cli(["db", "pull", "prod", "@prod"]);
    expect(remote.stderr).toContain(`host ${production.ip}`);
    expect(await localSql(FINGERPRINT)).toBe(before);
  });

  it("refuses an unknown host key and leaves the data as it was", async () => {
    const before = await localSql(FINGERPRINT);
    const empty = path.join(project.dir, "empty_known_hosts");
    await writeFile(empty, "");
    const config = path.join(project.dir, "prodlike.yaml");
    const original = await readFile(config, "utf8");
    await writeFile(config, original.replace(production.knownHosts, empty));
    try {
      const result = await project.cli(["db", "pull", "prod", "--json"]);
      expect(result.exitCode, describeFailure(result)).toBe(1);
      expect(result.json).toMatchObject({ ok: false, error: { code: "PULL_FAILED" } });
      expect(JSON.stringify(result.json)).toContain("known_hosts");
    } finally {
      await writeFile(config, original);
    }
    expect(await localSql(FINGERPRINT)).toBe(before);
  });

  it("gives the cli container the host's ssh-agent and known_hosts (drush sql:sync's ssh)", async () => {
    // A real agent holding the key; the key itself is never mounted when an agent is there.
    const agentDir = path.join(project.dir, ".agent");
    await mkdir(agentDir);
    const socket = path.join(agentDir, "agent.sock");
    const agent = await execa("ssh-agent", ["-a", socket]);
    const agentPid = /SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1];
    try {
      await execa("ssh-add", [production.identityFile], { env: { SSH_AUTH_SOCK: socket } });
      const up = await project.cli(["up", "--json"], { env: { SSH_AUTH_SOCK: socket } });
      expectOk(up);
      // Production joins the environment's network under a name its known_hosts knows.
      const envId = jsonField<{ id: string }>(up, "environment").id;
      const network = await environmentNetwork(envId);
      const hostKey = (await readFile(production.knownHosts, "utf8")).split(" ").slice(1).join(" ");
      await appendFile(production.knownHosts, `production ${hostKey}`);
      await execa("docker", [
        "network",
        "connect",
        "--alias",
        "production",
        network,
        production.name,
      ]);
      try {
        const mounted = await project.cli(["exec", "cli", "--", "ls", "/run/prodlike/ssh"]);
        expect(mounted.stdout.split("\n").sort()).toEqual(["agent.sock", "known_hosts"]);
        const remote = await project.cli([
          "exec",
          "cli",
          "--",
          "ssh",
          "deploy@production",
          "mariadb -N -e 'SELECT COUNT(*) FROM drupal_prod.node_field_data'",
        ]);
        expectOk(remote);
        expect(remote.stdout.trim()).toBe("20000");
        // An unknown host is refused, not trusted on first use.
        const unknown = await project.cli([
          "exec",
          "cli",
          "--",
          "ssh",
          `deploy@${production.name}`,
          "true",
        ]);
        expect(unknown.exitCode).toBe(255);
        expect(unknown.stderr).toContain("Host key verification failed");
      } finally {
        await execa("docker", ["network", "disconnect", "--force", network, production.name]);
      }
    } finally {
      if (agentPid) process.kill(Number(agentPid));
    }
  });

  it("a connection broken mid-copy leaves the previous data intact", async () => {
    // Enough rows that the copy takes seconds, so the connection can be cut during it.
    await production.sql(
      "CREATE TABLE node_revision (vid INT PRIMARY KEY, log TEXT) ENGINE=InnoDB; INSERT INTO node_revision SELECT seq, REPEAT(MD5(seq), 6) FROM seq_1_to_1500000;",
    );
    const before = await localSql(FINGERPRINT);
    const pull = project.cli(["db", "pull", "prod", "--json"]);
    // Wait until rows are flowing (the rows dump runs after the schema dump), then kill
    // the ssh session on the production side. `[d]ump`: the pattern must not match the
    // shell running pgrep, whose own command line holds it.
    let flowing = false;
    for (let attempt = 0; attempt < 300 && !flowing; attempt++) {
      const dumping = await execa("docker", [
        "exec",
        production.name,
        "sh",
        "-c",
        "pgrep -f '[d]ump.*no-create-info' >/dev/null && echo yes || true",
      ]);
      flowing = dumping.stdout.trim() === "yes";
      if (!flowing) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const killed = await execa(
      "docker",
      ["exec", production.name, "pkill", "-KILL", "-f", "sshd: deploy"],
      { reject: false },
    );
    const result = await pull;
    // Both facts in the message: a pull that ended before the cut explains itself here.
    expect({ flowing, killed: killed.exitCode }, describeFailure(result)).toEqual({
      flowing: true,
      killed: 0,
    });
    expect(result.exitCode, describeFailure(result)).toBe(1);
    expect(result.json).toMatchObject({ ok: false, error: { code: "PULL_FAILED" } });
    expect(await localSql(FINGERPRINT)).toBe(before);
    expect(await localSql("SHOW TABLES LIKE 'node_revision'")).toBe("");
    // No staging copy is left behind.
    const databases = await localSql("SHOW DATABASES LIKE '%prodlike%'");
    expect(databases).toBe("");
  });
});
