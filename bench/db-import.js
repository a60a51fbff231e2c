// `prodlike db import` of a generated ~200 MB mysqldump-style dump against the raw
// baseline in the same container: `mariadb DB < dump.sql` through `docker exec -i`.
// Same file, same server, same data; each starts from the same database contents.
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { finished } from "node:stream/promises";
import { execa } from "execa";
import { alternate, benchProject, dbContainerOf, fmt, median, timed } from "./lib.js";

const TARGET_BYTES = Number(process.env.BENCH_DUMP_MB ?? 200) * 1e6;

// Set by dbImportBench on the same loaded database; read with snapshotBench().
let snapshotResult;

export function snapshotBench() {
  return (
    snapshotResult ?? {
      name: "snapshot restore vs logical re-import",
      skipped: "db bench did not run",
      goal: ">= 5x faster",
    }
  );
}

export async function dbImportBench() {
  const project = await benchProject("bench-db");
  const work = await mkdtemp(path.join(os.tmpdir(), "prodlike-bench-dump-"));
  try {
    await project.cli(["up"]);
    const dump = path.join(work, "dump.sql");
    await generateDump(dump, TARGET_BYTES);
    const size = (await stat(dump)).size;
    const container = await dbContainerOf(project);

    const rawRuns = [];
    const ourRuns = [];
    const runRaw = async () =>
      rawRuns.push(
        (
          await timed(() =>
            execa(
              "docker",
              ["exec", "-i", container, "sh", "-c", 'exec mariadb "$MARIADB_DATABASE"'],
              {
                inputFile: dump,
              },
            ),
          )
        ).ms,
      );
    const runOurs = async () =>
      ourRuns.push((await timed(() => project.cli(["db", "import", dump]))).ms);
    await alternate(runRaw, runOurs);
    const raw = median(rawRuns);
    const ours = median(ourRuns);
    const speedup = raw / ours;

    // Snapshot restore against the logical re-import of the same data (prodlike's own,
    // parallel import: the faster logical path).
    // The restore's own time is until the database answers on the restored data
    // (switchMs); the command then refreshes the app and prepares the copy again.
    await project.cli(["snapshot", "create", "bench"]);
    const restoreRuns = [];
    const commandRuns = [];
    const paths = [];
    for (const _round of [0, 1, 2]) {
      const { ms, value } = await timed(() =>
        project.cli(["snapshot", "restore", "bench", "--json"]),
      );
      restoreRuns.push(value.snapshot.switchMs);
      commandRuns.push(ms);
      paths.push(value.snapshot.path);
    }
    const restore = median(restoreRuns);
    snapshotResult = {
      name: "snapshot restore vs logical re-import",
      ours: restore,
      raw: ours,
      ratio: ours / restore,
      goal: ">= 5x faster",
      met: ours / restore >= 5,
      detail: `same ${(size / 1e6).toFixed(0)} MB database: restore (${paths.join(", ")}) answered after ${restoreRuns.map(fmt).join(", ")}; whole command ${commandRuns.map(fmt).join(", ")} (app refresh, copy prepared again) | db import ${fmt(ours)}; ratio is import/restore`,
    };
    return {
      name: "db import vs raw mariadb < dump (same container)",
      ours,
      raw,
      ratio: speedup,
      goal: ">= 1.2x faster",
      met: speedup >= 1.2,
      detail: `${(size / 1e6).toFixed(0)} MB: prodlike ${ourRuns.map(fmt).join(", ")} (${(size / 1e6 / (ours / 1000)).toFixed(1)} MB/s) | raw ${rawRuns.map(fmt).join(", ")}; ratio is raw/prodlike (medians)`,
    };
  } finally {
    await project.cli(["destroy", "--keep-images"]).catch(() => undefined);
    await project.cleanup();
    await rm(work, { recursive: true, force: true });
  }
}

// A mysqldump-shaped dump: header, DROP/CREATE TABLE, extended INSERTs of ~16 KB (the
// default net_buffer_length), the completion trailer. Content like a Drupal cache table.
export async function generateDump(file, targetBytes) {
  const out = createWriteStream(file);
  const write = (text) =>
    out.write(text) ? Promise.resolve() : new Promise((r) => out.once("drain", r));
  await write(
    [
      "-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)",
      "/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;",
      "/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;",
      "DROP TABLE IF EXISTS `cache_data`;",
      "CREATE TABLE `cache_data` (`cid` varchar(255) NOT NULL, `data` longblob, `expire` int NOT NULL DEFAULT 0, `created` decimal(14,3) NOT NULL DEFAULT 0.000, `tags` longtext, PRIMARY KEY (`cid`), KEY `expire` (`expire`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
      "/*!40000 ALTER TABLE `cache_data` DISABLE KEYS */;",
      "",
    ].join("\n"),
  );
  let written = 0;
  let id = 0;
  const payload = "x".repeat(120);
  while (written < targetBytes) {
    const rows = [];
    let length = 0;
    while (length < 16_000) {
      id++;
      const row = `('cid:${id}:${(id * 2654435761) % 1e9}','${payload}${id}',${id % 1000},${1700000000 + id}.123,'node:${id % 5000} node_list')`;
      rows.push(row);
      length += row.length + 1;
    }
    const line = `INSERT INTO \`cache_data\` VALUES ${rows.join(",")};\n`;
    written += line.length;
    await write(line);
  }
  await write(
    "/*!40000 ALTER TABLE `cache_data` ENABLE KEYS */;\n-- Dump completed on 2026-11-22 10:00:00\n",
  );
  out.end();
  await finished(out);
}
