// `prodlike up --mirror` (production's layout on compose, images present, environment
// destroyed before each round) against the raw baseline on the same derived compose
// file: `docker compose up -d` + poll until HTTP 200. What ours adds: reading and
// transforming the manifests, writing the project, port reservation, waiting on every
// container as well as the page.
import path from "node:path";
import {
  presetImagesAsProduction,
  writeRoundtripMirrorConfig,
} from "../test/support/production-layout.js";
import { againstRawCompose, benchProject, copyComposeProject, fmt, median } from "./lib.js";

export async function mirrorUpBench({ rounds = 5 } = {}) {
  const project = await benchProject("bench-mirror");
  try {
    await project.cli(["up"]);
    const images = await presetImagesAsProduction(`${project.name}-local`);
    await project.cli(["destroy", "--keep-images"]);
    await writeRoundtripMirrorConfig(project.dir, images);

    // Prime: one mirrored up, a copy of the compose project it ran (the same renderer and
    // folder as a preset's), then destroy.
    const first = await project.cli(["up", "--mirror", "--json"]);
    const composeFile = await copyComposeProject(path.join(project.dir, ".prodlike", "local"));
    await project.cli(["destroy", "--keep-images"]);

    const { ours, raw, label } = await againstRawCompose({
      rounds,
      composeFile,
      rawProject: `${project.name}-raw`,
      url: first.urls.web,
      up: () => project.cli(["up", "--mirror"]),
      destroy: () => project.cli(["destroy", "--keep-images"]),
    });
    const ratio = median(ours) / median(raw);
    return {
      name: "up --mirror vs raw compose up -d + poll HTTP 200",
      ours: median(ours),
      raw: median(raw),
      ratio,
      // The same goal as a preset's warm up: the mirror runs through the same up.
      goal: "<= 1.15",
      met: ratio <= 1.15,
      detail: `prodlike ${ours.map(fmt).join(", ")} | raw (${label}) ${raw.map(fmt).join(", ")}`,
    };
  } finally {
    await project.cli(["destroy", "--keep-images"]).catch(() => undefined);
    await project.cleanup();
  }
}
