import { access } from "node:fs/promises";
import path from "node:path";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { configSchema, type ProdlikeConfig } from "./schema.js";
import { readYamlFile, validateYaml } from "./yaml-source.js";

export const CONFIG_FILE_NAME = "prodlike.yaml";

export interface LoadedConfig {
  config: ProdlikeConfig;
  /** Absolute path of the file, or undefined when the defaults were used. */
  file: string | undefined;
  /** The folder holding prodlike.yaml (or the working folder): the code root. */
  codeRoot: string;
  /** `file:line` of a field, for errors found after schema validation. */
  locate(path: string[]): string;
}

// Reads prodlike.yaml from `dir` when it exists; otherwise the defaults apply.
export async function loadConfig(dir: string): Promise<LoadedConfig> {
  const codeRoot = path.resolve(dir);
  try {
    await access(codeRoot);
  } catch {
    throw new ProdlikeError("CODE_ROOT_MISSING", `Code root ${codeRoot} does not exist`, {
      hint: "Pass --dir with your project's folder, or run prodlike from inside it.",
    });
  }
  const file = path.join(codeRoot, CONFIG_FILE_NAME);
  if (!(await exists(file))) {
    return {
      config: configSchema.parse({}),
      file: undefined,
      codeRoot,
      locate: () => CONFIG_FILE_NAME,
    };
  }
  const parsed = await readYamlFile(file);
  const config = validateYaml(parsed, configSchema, hintForField);
  const locate = (path: string[]) => {
    const line = parsed.lineOf(path);
    return line === undefined ? file : `${file}:${line}`;
  };
  return { config, file, codeRoot, locate };
}

function hintForField(field: string): string {
  const top = field.split(".")[0] ?? field;
  const known = Object.keys(configSchema.shape).filter((key) => key !== "$schema");
  if (!known.includes(top)) {
    return `Known top-level fields: ${known.join(", ")}. See schema/prodlike.schema.json.`;
  }
  return `See the \`${top}\` field in README.md (Configuration) or schema/prodlike.schema.json.`;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
