// Warm `prodlike up` (images built, environment destroyed before) against the raw
// baseline on the same rendered files: `docker compose up -d` + poll until HTTP 200.
import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { benchProject, fmt, median, pollHttp, timed } from "./lib.js";

export async function warmUpBench({ rounds = 3 } = {}) {
  const project = await benchProject("bench-up");
  try {
    // Prime: build the images, keep a copy of the rendered compose project, destroy.
    const first = await project.cli(["up", "--json"]);
    const url = first.urls.web;
    const rendered = path.join(project.dir, ".prodlike", "local");
    const rawDir = await mkdtemp(path.join(os.tmpdir(), "prodlike-bench-raw-"));
    await cp(rendered, rawDir, { recursive: true });
    const composeFile = path.join(rawDir, "docker-compose.yml");
    await writeFile(
      composeFile,
      (await readFile(composeFile, "utf8")).replaceAll(rendered, rawDir),
    );
    await project.cli(["destroy", "--keep-images"]);

    const compose = await composeCommand();
    const rawProject = `${project.name}-raw`;
    const ours = [];
    const raw = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first so neither always gets the warmer page cache.
      const runOurs = async () => {
        ours.push((await timed(() => project.cli(["up"]))).ms);
        await project.cli(["destroy", "--keep-images"]);
      };
      const runRaw = async () => {
        const args = [...compose.prefix, "-p", rawProject, "-f", composeFile];
        raw.push(
          (
            await timed(async () => {
              await execa(compose.file, [...args, "up", "-d"]);
              await pollHttp(`${url}/`, (status) => status === 200);
            })
          ).ms,
        );
        await execa(compose.file, [...args, "down", "-v", "--timeout", "10"]);
      };
      if (round % 2 === 0) {
        await runOurs();
        await runRaw();
      } else {
        await runRaw();
        await runOurs();
      }
    }
    return {
      name: "warm up vs raw compose up -d + poll HTTP 200",
      ours: median(ours),
      raw: median(raw),
      ratio: median(ours) / median(raw),
      goal: "<= 1.15",
      met: median(ours) / median(raw) <= 1.15,
      detail: `prodlike ${ours.map(fmt).join(", ")} | raw (${compose.label}) ${raw.map(fmt).join(", ")}`,
    };
  } finally {
    await project.cli(["destroy", "--keep-images"]).catch(() => undefined);
    await project.cleanup();
  }
}

async function composeCommand() {
  const v2 = await execa("docker", ["compose", "version", "--short"], { reject: false });
  if (v2.exitCode === 0 && process.env.PRODLIKE_COMPOSE !== "v1") {
    return { file: "docker", prefix: ["compose"], label: `docker compose ${v2.stdout.trim()}` };
  }
  const v1 = await execa("docker-compose", ["version", "--short"]);
  return { file: "docker-compose", prefix: [], label: `docker-compose ${v1.stdout.trim()}` };
}
