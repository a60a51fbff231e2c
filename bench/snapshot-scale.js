// Whether a restore's time depends on the database's size: the same environment filled to
// 200 MB and then to 1 GB of rows, a snapshot of each restored from its prepared copy,
// timed until the database answers on the restored data (switchMs). The goal: the 1 GB
// restore within 1.5x the 200 MB one. The rows are made by the server itself (INSERT …
// SELECT from a sequence), so the fill is quick; the data is real InnoDB pages all the same.
import { benchProject, fmt, median } from "./lib.js";

const SIZES = [
  { label: "200 MB", rows: 200_000 },
  { label: "1 GB", rows: 1_000_000 },
];

async function fill(project, rows) {
  const sql = `DROP TABLE IF EXISTS big; CREATE TABLE big (id int PRIMARY KEY, v varchar(1000)) ENGINE=InnoDB; INSERT INTO big SELECT seq, REPEAT(SHA2(seq, 256), 15) FROM seq_1_to_${rows};`;
  await project.cli(["exec", "db", "--", "sh", "-c", `mariadb "$MARIADB_DATABASE" -e "${sql}"`]);
}

export async function snapshotScaleBench() {
  const project = await benchProject("bench-snapscale");
  try {
    await project.cli(["up"]);
    const times = [];
    for (const size of SIZES) {
      await fill(project, size.rows);
      const name = `scale-${size.rows}`;
      const created = await project.cli(["snapshot", "create", name, "--json"]);
      const runs = [];
      for (const _round of [0, 1]) {
        // Change the data, so the restore has something to put back.
        await project.cli([
          "exec",
          "db",
          "--",
          "sh",
          "-c",
          'mariadb "$MARIADB_DATABASE" -e "DELETE FROM big WHERE id % 2 = 0"',
        ]);
        const restored = await project.cli(["snapshot", "restore", name, "--json"]);
        runs.push({ ms: restored.snapshot.switchMs, path: restored.snapshot.path });
      }
      times.push({
        ...size,
        bytes: created.snapshot.bytes,
        ms: median(runs.map((run) => run.ms)),
        runs,
      });
      await project.cli(["snapshot", "prune", "--keep", "0"]);
    }
    const [small, large] = times;
    const ratio = large.ms / small.ms;
    return {
      name: "snapshot restore at 1 GB vs at 200 MB",
      ours: large.ms,
      raw: small.ms,
      ratio,
      goal: "<= 1.5",
      met: ratio <= 1.5,
      detail: times
        .map(
          (time) =>
            `${time.label} (stream ${(time.bytes / 1e6).toFixed(0)} MB): ${time.runs.map((run) => `${fmt(run.ms)} ${run.path}`).join(", ")}`,
        )
        .join(" | "),
    };
  } finally {
    await project.cli(["destroy", "--keep-images"]).catch(() => undefined);
    await project.cleanup();
  }
}
