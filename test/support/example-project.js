// A throwaway copy of examples/drupal-basic (or another example) under a unique project name, with its own
// PRODLIKE_HOME (locks, derived secrets), so test and benchmark runs never touch a
// developer's environments. Plain JavaScript: the benchmarks import it without a build.
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

export async function copyExampleProject(prefix, tmpPrefix, example = "drupal-basic") {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  const base = await mkdtemp(path.join(os.tmpdir(), tmpPrefix));
  const dir = path.join(base, name);
  await cp(path.join(repoRoot, "examples", example), dir, {
    recursive: true,
    filter: (source) =>
      !source.includes(`${path.sep}.prodlike`) && !source.endsWith("settings.prodlike.php"),
  });
  const config = await readFile(path.join(dir, "prodlike.yaml"), "utf8");
  await writeFile(path.join(dir, "prodlike.yaml"), config.replace(/^name: .*$/m, `name: ${name}`));
  return { name, base, dir, home: path.join(base, "home") };
}
