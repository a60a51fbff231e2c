// Start-up time of `prodlike --version` and `prodlike status` against `node -e 0`, and
// live-edit latency (file written -> new content served) over 50 edits. Both on one
// running environment.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { benchProject, CLI, median, percentile, pollHttp, timedSync } from "./lib.js";

const RUNS = 15;

// Start-up goal: at most 3x a bare Node start, measured in the same run.
function startupRow(command, ours, node) {
  return {
    name: `${command} vs node -e 0`,
    ours,
    raw: node,
    ratio: ours / node,
    goal: "<= 3",
    met: ours / node <= 3,
    detail: `median of ${RUNS}: ${ours.toFixed(0)} ms vs ${node.toFixed(0)} ms`,
  };
}

export async function startupAndEditBench() {
  const project = await benchProject("bench-edit");
  try {
    const up = await project.cli(["up", "--json"]);
    const url = up.urls.web;
    const env = { ...process.env, PRODLIKE_HOME: project.home, NO_COLOR: "1", CI: "true" };
    const sample = (args) => {
      // One unmeasured run warms the OS page cache and Node's compile cache.
      timedSync("node", args, { cwd: project.dir, env });
      return median(
        Array.from({ length: RUNS }, () => timedSync("node", args, { cwd: project.dir, env }).ms),
      );
    };
    const node = sample(["-e", "0"]);
    const version = sample([CLI, "--version"]);
    const status = sample([CLI, "status"]);

    const file = path.join(project.dir, "web", "bench-edit.php");
    await writeFile(file, "<?php echo 'start';\n");
    await pollHttp(`${url}/bench-edit.php`, (_status, body) => body === "start");
    const latencies = [];
    for (let edit = 0; edit < 50; edit++) {
      const marker = `edit-${edit}`;
      const started = process.hrtime.bigint();
      await writeFile(file, `<?php echo '${marker}';\n`);
      await pollHttp(`${url}/bench-edit.php`, (_status, body) => body === marker, 10_000);
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return [
      startupRow("prodlike --version", version, node),
      startupRow("prodlike status", status, node),
      {
        name: "live edit latency (write -> served), 50 edits",
        ours: percentile(latencies, 95),
        raw: undefined,
        ratio: undefined,
        goal: "p95 <= 100 ms",
        met: percentile(latencies, 95) <= 100,
        detail: `p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
      },
    ];
  } finally {
    await project.cli(["destroy", "--keep-images"]).catch(() => undefined);
    await project.cleanup();
  }
}
