import path from "node:path";
import { createInterface } from "node:readline/promises";
import {
  DEFAULT_PRESET,
  defaultProjectName,
  detectProject,
  presetDefinition,
  presetNames,
  renderConfig,
  schemaReference,
  writeConfig,
} from "../../core/init-config.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import { packageFile } from "../../package-files.js";
import type { Output } from "../output.js";

export default async function initCommand(
  output: Output,
  flags: { dir: string; preset?: string; yes: boolean; force: boolean },
): Promise<number> {
  const codeRoot = path.resolve(flags.dir);
  const presets = await presetNames();
  const detected = await detectProject(codeRoot);
  let preset = flags.preset ?? detected.preset;
  if (preset !== undefined && !presets.includes(preset)) {
    throw new ProdlikeError("PRESET_UNKNOWN", `Unknown preset \`${preset}\``, {
      hint: `Available: ${presets.join(", ")}.`,
    });
  }
  if (preset === undefined) {
    // Ask only what could not be detected, and only when someone can answer.
    preset =
      flags.yes || !process.stdin.isTTY || output.mode === "json"
        ? DEFAULT_PRESET
        : await askPreset(presets);
  }
  const schemaFile = packageFile("schema/prodlike.schema.json");
  const content = renderConfig({
    project: defaultProjectName(codeRoot),
    preset,
    definition: await presetDefinition(preset),
    docroot: detected.docroot,
    services: preset === detected.preset ? detected.services : undefined,
    php: preset === detected.preset ? detected.php : undefined,
    schemaRef: schemaReference(codeRoot, schemaFile),
  });
  const file = await writeConfig(codeRoot, content, flags.force);
  output.result(
    "init",
    {
      file,
      preset,
      docroot: detected.docroot ?? null,
      detected: detected.reason,
      services: preset === detected.preset ? (detected.services ?? []) : [],
      php: preset === detected.preset ? (detected.php?.php ?? null) : null,
    },
    () => `Wrote ${file} (preset ${preset}; ${detected.reason}). Next: prodlike up`,
  );
  return 0;
}

async function askPreset(presets: string[]): Promise<string> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (
      await prompt.question(`Preset (${presets.join(", ")}) [${DEFAULT_PRESET}]: `)
    ).trim();
    return answer === "" ? DEFAULT_PRESET : answer;
  } finally {
    prompt.close();
  }
}
