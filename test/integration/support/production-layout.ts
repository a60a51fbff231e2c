import { execa } from "execa";
import {
  presetImagesAsProduction,
  writeRoundtripMirrorConfig,
} from "../../support/production-layout.js";
import { expectOk, type TestProject } from "./harness.js";

/** The round-trip production layout, runnable: preset images stand in for production's. */
export async function mirrorRoundtripLayout(
  project: TestProject,
  options: { from?: string | null } = {},
): Promise<void> {
  expectOk(await project.cli(["up", "--backend", "compose"]));
  const images = await presetImagesAsProduction(`${project.name}-local`);
  expectOk(await project.cli(["destroy", "--backend", "compose", "--keep-images"]));
  await writeRoundtripMirrorConfig(project.dir, images, options);
}

/** Which local cluster tools this machine has (their suites are skipped without). */
export async function clusterTools(): Promise<{ kind: boolean; minikube: boolean }> {
  const installed = async (tool: string, args: string[]) =>
    (await execa(tool, args, { reject: false })).exitCode === 0;
  return {
    kind: await installed("kind", ["version"]),
    minikube: await installed("minikube", ["version", "--short"]),
  };
}
