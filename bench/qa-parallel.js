// QA's morning: ten throwaway Drupal environments of one project started together
// (`up --name qa-N` in parallel, images built) against ten times the time of one, on
// this machine; then the memory each environment holds once idle.
import { execa } from "execa";
import { benchProject, fmt, median, timed } from "./lib.js";

const COUNT = Number(process.env.BENCH_QA_COUNT ?? 10);

export async function qaParallelBench() {
  const project = await benchProject("bench-qa");
  const names = Array.from({ length: COUNT }, (_, index) => `qa-${index + 1}`);
  try {
    // Prime: images built once, as on any machine that has run prodlike before.
    await project.cli(["up", "--name", "prime"]);
    await project.cli(["destroy", "--name", "prime", "--keep-images"]);

    // One environment, twice (the median), from nothing to healthy.
    const singles = [];
    for (const round of [1, 2]) {
      singles.push((await timed(() => project.cli(["up", "--name", `single-${round}`]))).ms);
      await project.cli(["destroy", "--name", `single-${round}`, "--keep-images"]);
    }
    const single = median(singles);

    const together = await timed(() =>
      Promise.all(names.map((name) => project.cli(["up", "--name", name, "--json"]))),
    );
    const urls = together.value.map((result) => result.urls.web);
    const distinct = new Set(urls).size;

    // Idle: let start-up settle, then what the containers of each environment hold.
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    const perEnvironment = await idleMemoryMb(project.name, names);
    const memory = median(perEnvironment);

    const ratio = together.ms / (COUNT * single);
    return {
      name: `${COUNT} QA environments together vs ${COUNT} x one`,
      ours: together.ms,
      raw: COUNT * single,
      ratio,
      goal: "report",
      met: distinct === COUNT,
      detail: `together ${fmt(together.ms)} (all healthy, ${distinct} distinct URLs) | one: ${singles.map(fmt).join(", ")} -> ${COUNT} x ${fmt(single)} = ${fmt(COUNT * single)}; ratio is together/(${COUNT} x one); idle memory per environment: median ${memory.toFixed(0)} MiB (min ${Math.min(...perEnvironment).toFixed(0)}, max ${Math.max(...perEnvironment).toFixed(0)})`,
    };
  } finally {
    await Promise.all(
      ["prime", "single-1", "single-2", ...names].map((name) =>
        project.cli(["destroy", "--name", name, "--keep-images"]).catch(() => undefined),
      ),
    );
    await project.cleanup();
  }
}

// Sum of `docker stats` memory of an environment's containers, per environment.
async function idleMemoryMb(project, names) {
  const { stdout } = await execa("docker", [
    "stats",
    "--no-stream",
    "--format",
    "{{.Name}}\t{{.MemUsage}}",
  ]);
  const totals = new Map(names.map((name) => [`${project}-${name}`, 0]));
  for (const line of stdout.split("\n")) {
    const [container = "", usage = ""] = line.split("\t");
    const env = [...totals.keys()].find((id) => container.startsWith(`${id}_`));
    if (!env) continue;
    totals.set(env, (totals.get(env) ?? 0) + toMiB(usage.split("/")[0]?.trim() ?? "0"));
  }
  return [...totals.values()];
}

function toMiB(text) {
  const match = /^([\d.]+)\s*([KMG]i?B|B)$/.exec(text);
  if (!match) return 0;
  const value = Number(match[1]);
  const unit = match[2];
  if (unit.startsWith("G")) return value * 1024;
  if (unit.startsWith("M")) return value;
  if (unit.startsWith("K")) return value / 1024;
  return value / 1024 / 1024;
}
