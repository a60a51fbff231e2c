import { appendFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXEC_PROTOCOLS_V4 } from "../support/kube-wire/channels.js";
import { WireClusters } from "../support/kube-wire/wire-clusters.js";
import {
  productionSeedSql,
  pullConfigYaml,
  startProductionServer,
} from "../support/production-server.js";
import { copyExample, expectOk, type TestProject } from "./support/harness.js";

// db pull into a cluster environment whose API server speaks exec v4 only: production's
// dump arrives over real ssh and streams into the database pod through exec's stdin,
// which on v4 cannot say that it ended (prodlike's decoder does), then the app refresh
// runs in the pods. The same data as production, no staging database left.

const FINGERPRINT = `SELECT COUNT(*), SUM(CRC32(HEX(CONCAT_WS('|', nid, title, body, created)))) FROM node_field_data`;

describe("db pull on a Kubernetes wire double (exec protocol v4)", () => {
  let clusters: WireClusters;
  let production: Awaited<ReturnType<typeof startProductionServer>>;
  let project: TestProject;
  const cli = (args: string[], options: { input?: string } = {}) =>
    project.cli(args, { ...options, env: { ...clusters.env(), PRODLIKE_ROUTER: "off" } });
  const localSql = async (sql: string) => {
    const result = await cli(
      [
        "exec",
        "db",
        "--",
        "sh",
        "-c",
        'exec mariadb --default-character-set=utf8mb4 -N -B "$MARIADB_DATABASE"',
      ],
      { input: sql },
    );
    expectOk(result);
    return result.stdout.trim();
  };

  beforeAll(async () => {
    clusters = await WireClusters.start({ execProtocols: EXEC_PROTOCOLS_V4 });
    production = await startProductionServer("wire-pull");
    await production.sql(productionSeedSql());
    project = await copyExample("it-wire-pull");
    await appendFile(path.join(project.dir, "prodlike.yaml"), pullConfigYaml(production));
    expectOk(await cli(["up", "--backend", "kind", "--json"]));
  }, 900_000);

  afterAll(async () => {
    if (project) await cli(["destroy", "--keep-images"]).catch(() => undefined);
    await clusters?.close();
    await production?.stop();
    await project?.cleanup();
  });

  it("copies production's rows into the pod's database and leaves no staging database", async () => {
    const pulled = await cli(["db", "pull", "--from", "prod", "--json"]);
    expectOk(pulled);
    expect(pulled.json).toMatchObject({ ok: true, strategy: "mysqldump", sanitized: true });
    expect(await localSql(FINGERPRINT)).toBe(await production.sql(FINGERPRINT));
    expect(await localSql("SHOW DATABASES LIKE '%prodlike_stage%'")).toBe("");
  });
});
