// `prodlike db import` of a 50 MB dump written on one line (50 INSERTs of 1 MB, no
// newline between them) against the same statements one per line: the rewrite on the
// way in must be linear in the bytes whatever the line lengths (issue #31 measured 62 s
// against 3 s before).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { alternate, benchProject, fmt, median, timed } from "./lib.js";

export async function dbLongLinesBench() {
  const project = await benchProject("bench-lines");
  const work = await mkdtemp(path.join(os.tmpdir(), "prodlike-bench-lines-"));
  try {
    await project.cli(["up"]);
    const schema = "DROP TABLE IF EXISTS `wide`;\nCREATE TABLE `wide` (`id` int, `v` longtext);\n";
    const statements = Array.from(
      { length: 50 },
      (_, index) => `INSERT INTO \`wide\` VALUES (${index},'${"x".repeat(1024 * 1024 - 16)}');`,
    );
    const oneLine = path.join(work, "one-line.sql");
    const newlines = path.join(work, "newlines.sql");
    await writeFile(oneLine, `${schema}${statements.join("")}\n`);
    await writeFile(newlines, `${schema}${statements.join("\n")}\n`);
    const lines = [];
    const long = [];
    await alternate(
      async () => lines.push((await timed(() => project.cli(["db", "import", newlines]))).ms),
      async () => long.push((await timed(() => project.cli(["db", "import", oneLine]))).ms),
      3,
    );
    const ratio = median(long) / median(lines);
    return {
      name: "db import: 50 MB on one line vs one statement per line",
      ours: median(long),
      raw: median(lines),
      ratio,
      goal: "<= 1.5",
      met: ratio <= 1.5,
      detail: `one line ${long.map(fmt).join(", ")} | per line ${lines.map(fmt).join(", ")}`,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
    await project.cli(["destroy", "--keep-images"]).catch(() => undefined);
    await project.cleanup();
  }
}
