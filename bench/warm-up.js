// Warm `prodlike up` (images built, environment destroyed before) against the raw
// baseline on the same rendered files: `docker compose up -d` + poll until HTTP 200.
import path from "node:path";
import { againstRawCompose, benchProject, copyComposeProject, fmt, median } from "./lib.js";

// Five alternating rounds: three were too noisy to tell 1.15 from 1.3.
export async function warmUpBench({ rounds = 5 } = {}) {
  const project = await benchProject("bench-up");
  try {
    // Prime: build the images, keep a copy of the rendered compose project, destroy.
    const first = await project.cli(["up", "--json"]);
    const composeFile = await copyComposeProject(path.join(project.dir, ".prodlike", "local"));
    await project.cli(["destroy", "--keep-images"]);

    const { ours, raw, label } = await againstRawCompose({
      rounds,
      composeFile,
      rawProject: `${project.name}-raw`,
      url: first.urls.web,
      up: () => project.cli(["up"]),
      destroy: () => project.cli(["destroy", "--keep-images"]),
    });
    return {
      name: "warm up vs raw compose up -d + poll HTTP 200",
      ours: median(ours),
      raw: median(raw),
      ratio: median(ours) / median(raw),
      goal: "<= 1.05",
      met: median(ours) / median(raw) <= 1.05,
      detail: `prodlike ${ours.map(fmt).join(", ")} | raw (${label}) ${raw.map(fmt).join(", ")}`,
    };
  } finally {
    await project.cli(["destroy", "--keep-images"]).catch(() => undefined);
    await project.cleanup();
  }
}
