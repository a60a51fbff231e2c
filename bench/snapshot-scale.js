// Whether a restore's time depends on the database's size: the same environment filled to
// 200 MB and then to 1 GB of rows, a snapshot of each restored from its prepared copy,
// timed until the database answers on the restored data (switchMs). The goals: the 1 GB
// restore within 1.5x the 200 MB one, and at each size the restore against the raw
// logical re-import of the same data (a mariadb-dump file already inside the container,
// fed to the mariadb client there: no transfer, no prodlike; the quickest re-import there
// is) at least 5x (200 MB) and 10x (1 GB) quicker. The rows are made by the server itself
// (INSERT … SELECT from a sequence), so the fill is quick; the data is real InnoDB pages.
import { execa } from "execa";
import { benchProject, dbContainerOf, fmt, median, timed } from "./lib.js";

const SIZES = [
  { label: "200 MB", rows: 200_000, goal: 5 },
  { label: "1 GB", rows: 1_000_000, goal: 10 },
];

// docker exec itself, not `prodlike exec`: the baseline carries no start-up of ours.
const inDb = (container, script) => execa("docker", ["exec", container, "sh", "-c", script]);

// The raw logical re-import of what the table holds now, timed once (a 1 GB load takes
// about a minute; its spread is small next to the ratio asked for).
async function rawReimportMs(container) {
  await inDb(container, 'mariadb-dump "$MARIADB_DATABASE" big > /tmp/bench-big.sql');
  try {
    const { ms } = await timed(() =>
      inDb(container, 'mariadb "$MARIADB_DATABASE" < /tmp/bench-big.sql'),
    );
    return ms;
  } finally {
    await inDb(container, "rm -f /tmp/bench-big.sql");
  }
}

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
      const reimportMs = await rawReimportMs(await dbContainerOf(project));
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
        reimportMs,
      });
      await project.cli(["snapshot", "prune", "--keep", "0"]);
    }
    const [small, large] = times;
    const ratio = large.ms / small.ms;
    const againstReimport = times.map((time) => {
      const speedup = time.reimportMs / time.ms;
      return {
        name: `snapshot restore vs raw logical re-import at ${time.label}`,
        ours: time.ms,
        raw: time.reimportMs,
        ratio: speedup,
        goal: `>= ${time.goal}x faster`,
        met: speedup >= time.goal,
        detail: `restore (prepared copy, until the server answers) ${fmt(time.ms)} | mariadb < mariadb-dump file inside the container ${fmt(time.reimportMs)}; ratio is re-import/restore`,
      };
    });
    return [
      ...againstReimport,
      {
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
      },
    ];
  } finally {
    await project.cli(["destroy", "--keep-images"]).catch(() => undefined);
    await project.cleanup();
  }
}
