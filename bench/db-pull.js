// `prodlike db pull` (mysqldump over ssh) against the raw baseline a developer would
// type: `ssh prod mysqldump DB | docker exec -i DB-CONTAINER mariadb DB`, same host key
// file, same key, same production server (test/fixtures/production), same local server.
import { appendFile } from "node:fs/promises";
import { execa } from "execa";
import {
  productionSeedSql,
  pullConfigYaml,
  startProductionServer,
} from "../test/support/production-server.js";
import { alternate, benchProject, dbContainerOf, fmt, median, timed } from "./lib.js";

const NODES = Number(process.env.BENCH_PULL_NODES ?? 250_000);

export async function dbPullBench() {
  const production = await startProductionServer("bench");
  const project = await benchProject("bench-pull");
  try {
    await production.sql(productionSeedSql(NODES));
    await appendFile(`${project.dir}/prodlike.yaml`, pullConfigYaml(production));
    await project.cli(["up"]);
    const container = await dbContainerOf(project);
    const ssh = [
      "ssh",
      "-o BatchMode=yes",
      `-o UserKnownHostsFile=${production.knownHosts}`,
      `-i ${production.identityFile}`,
      `deploy@${production.ip}`,
    ].join(" ");
    const raw = `set -o pipefail; ${ssh} mysqldump --single-transaction --quick drupal_prod | docker exec -i ${container} sh -c 'exec mariadb "$MARIADB_DATABASE"'`;

    const rawRuns = [];
    const ourRuns = [];
    let megabytes = 0;
    const runRaw = async () => rawRuns.push((await timed(() => execa("bash", ["-c", raw]))).ms);
    const runOurs = async () =>
      ourRuns.push(
        (
          await timed(async () => {
            const report = await project.cli(["db", "pull", "prod", "--json"]);
            megabytes = report.bytes / 1e6;
          })
        ).ms,
      );
    // Six rounds: a goal of 1.05 is within two rounds' noise.
    await alternate(runRaw, runOurs, 6);
    const ours = median(ourRuns);
    const rawMs = median(rawRuns);
    const ratio = ours / rawMs;
    return {
      name: "db pull (ssh) vs raw ssh mysqldump | mariadb",
      ours,
      raw: rawMs,
      ratio,
      goal: "<= 1.05",
      met: ratio <= 1.05,
      detail: `${NODES} content rows, ${megabytes.toFixed(0)} MB over ssh: prodlike ${ourRuns.map(fmt).join(", ")} (staging + switch + sanitize included) | raw ${rawRuns.map(fmt).join(", ")}; ratio is prodlike/raw (medians)`,
    };
  } finally {
    await project.cli(["destroy", "--keep-images"]).catch(() => undefined);
    await project.cleanup();
    await production.stop();
  }
}
