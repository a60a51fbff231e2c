// A "production" server for the db pull tests and benchmark: a container with sshd and
// MariaDB (test/fixtures/production) on its own docker network, reached from this host
// by its bridge address. Its host key is trusted through a known_hosts file written
// here, and a fresh ssh key pair logs in as `deploy`. Everything is labelled
// prodlike.test=production and removed by stop(). Plain JavaScript: the benchmark
// imports it without a build.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./example-project.js";

const run = promisify(execFile);
export const PRODUCTION_IMAGE = "prodlike-test/production:latest";
const LABEL = "prodlike.test=production";

async function docker(args, options = {}) {
  const { input, ...rest } = options;
  const child = run("docker", args, { maxBuffer: 64 * 1024 * 1024, ...rest });
  // execFile has no `input` option: write stdin and close it, or the program waits.
  if (input !== undefined) child.child.stdin.end(input);
  const { stdout } = await child;
  return stdout.trim();
}

export async function startProductionServer(prefix = "prod") {
  const name = `prodlike-test-${prefix}-${randomBytes(3).toString("hex")}`;
  const keys = await mkdtemp(path.join(os.tmpdir(), "prodlike-prod-keys-"));
  const identityFile = path.join(keys, "id_ed25519");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", identityFile]);
  const publicKey = (await readFile(`${identityFile}.pub`, "utf8")).trim();
  await docker(
    ["build", "-q", "--label", LABEL, "-t", PRODUCTION_IMAGE, "test/fixtures/production"],
    { cwd: repoRoot },
  );
  await docker(["network", "create", "--label", LABEL, name]);
  await docker([
    "run",
    "-d",
    "--name",
    name,
    "--network",
    name,
    "--label",
    LABEL,
    "-e",
    `AUTHORIZED_KEY=${publicKey}`,
    PRODUCTION_IMAGE,
  ]);
  const stop = async () => {
    await run("docker", ["rm", "-f", "-v", name]).catch(() => undefined);
    await run("docker", ["network", "rm", name]).catch(() => undefined);
    await rm(keys, { recursive: true, force: true });
  };
  try {
    for (let attempt = 0; ; attempt++) {
      const ready = await docker(["exec", name, "test", "-e", "/run/production-ready"]).then(
        () => true,
        () => false,
      );
      if (ready) break;
      if (attempt > 120) throw new Error(`${name} did not start: ${await docker(["logs", name])}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const ip = await docker([
      "inspect",
      "-f",
      `{{(index .NetworkSettings.Networks "${name}").IPAddress}}`,
      name,
    ]);
    const hostKey = await docker(["exec", name, "cat", "/etc/ssh/ssh_host_ed25519_key.pub"]);
    const knownHosts = path.join(keys, "known_hosts");
    await writeFile(knownHosts, `${ip} ${hostKey.split(" ").slice(0, 2).join(" ")}\n`);
    return {
      name,
      ip,
      identityFile,
      knownHosts,
      /** Runs SQL as MariaDB root on the production database. */
      sql: (statements) =>
        docker(
          [
            "exec",
            "-i",
            name,
            "mariadb",
            "--default-character-set=utf8mb4",
            "-N",
            "-B",
            "drupal_prod",
          ],
          { input: statements },
        ),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Known production data: users with real-looking emails, content, cache and sessions. */
export function productionSeedSql(nodes = 20000) {
  return `
CREATE TABLE users_field_data (uid INT PRIMARY KEY, name VARCHAR(60), mail VARCHAR(254), init VARCHAR(254), pass VARCHAR(255)) ENGINE=InnoDB;
INSERT INTO users_field_data VALUES (0, '', NULL, NULL, NULL);
INSERT INTO users_field_data SELECT seq, CONCAT('editor', seq), CONCAT('editor', seq, '@customer.example'), CONCAT('editor', seq, '@customer.example'), '$S$Dhashedpassword' FROM seq_1_to_500;
CREATE TABLE node_field_data (nid INT PRIMARY KEY, title VARCHAR(255), body TEXT, created INT) ENGINE=InnoDB;
CREATE TABLE node_audit (nid INT) ENGINE=InnoDB;
CREATE TRIGGER node_audit_insert AFTER INSERT ON node_field_data FOR EACH ROW INSERT INTO node_audit VALUES (NEW.nid);
CREATE VIEW recent_nodes AS SELECT nid, title FROM node_field_data WHERE created > 1700000100;
INSERT INTO node_field_data SELECT seq, CONCAT('Article ', seq, ' — café ☕'), REPEAT(MD5(seq), 12), 1700000000 + seq FROM seq_1_to_${nodes};
CREATE TABLE cache_render (cid VARCHAR(255) PRIMARY KEY, data LONGBLOB) ENGINE=InnoDB;
INSERT INTO cache_render SELECT CONCAT('render:', seq), REPEAT('c', 500) FROM seq_1_to_2000;
CREATE TABLE cache_entity (cid VARCHAR(255) PRIMARY KEY, data LONGBLOB) ENGINE=InnoDB;
INSERT INTO cache_entity SELECT CONCAT('entity:', seq), 'x' FROM seq_1_to_100;
CREATE TABLE sessions (sid VARCHAR(128) PRIMARY KEY, uid INT, session BLOB) ENGINE=InnoDB;
INSERT INTO sessions SELECT CONCAT('sess', seq), seq, 'token' FROM seq_1_to_300;
CREATE TABLE watchdog (wid INT PRIMARY KEY, message TEXT) ENGINE=InnoDB;
INSERT INTO watchdog SELECT seq, 'Login attempt' FROM seq_1_to_1000;
`;
}

/** prodlike.yaml lines pulling from this server as `prod` (mysqldump over ssh, its key). */
export function pullConfigYaml(production) {
  return [
    "pull:",
    "  sources:",
    "    prod:",
    `      ssh: { host: "${production.ip}", user: deploy }`,
    "      database: { name: drupal_prod, defaultsFile: ~/.my.cnf }",
    "  ssh:",
    `    identityFile: ${production.identityFile}`,
    `    knownHosts: ${production.knownHosts}`,
    "",
  ].join("\n");
}
